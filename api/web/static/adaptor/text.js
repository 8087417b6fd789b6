// Sentences for people from server problems. A problem's detail is meant
// for people (RFC 9457) and is shown as it is; a few terse engine codes
// and database messages that may still reach a page are mapped here. Used
// by the adaptor and the admin pages.
const LABEL = {logged_out: 'logged out', logged_in: 'logged in', connecting: 'connecting', paused: 'paused',
  ready: 'ready', reserved: 'being offered a call', on_call: 'on a call', on_wrap: 'wrapping up'};
const CODES = [
  [/^cannot (\w+) while (\w+)$/i, (m, verb, st) => `You can't ${verb} while you are ${LABEL[st] || st.replace(/_/g, ' ')}.`],
  [/^not allowed in state (\w+)$/i, (m, st) => `That is not possible while you are ${LABEL[st] || st.replace(/_/g, ' ')}.`],
  [/^no (active )?call$/i, () => 'You are not on a call.'],
  [/^no such (\w+)$/i, (m, what) => `That ${what} no longer exists.`],
  [/^agent not logged in$/i, () => 'You are not logged in to the desk.'],
  [/^missing or expired token$/i, () => 'Your session has ended; please log in again.'],
  [/^(invalid|bad) (json|request body)/i, () => 'The request could not be read; please try again.'],
  [/duplicate key value violates unique constraint/i, () => 'That already exists.'],
  [/violates (foreign key|check|not-null) constraint/i, () => 'That value is not allowed here.'],
  [/\b(constraint|SQLSTATE)\b/i, () => 'The change was refused by the database; check the values and try again.'],
];
export function sentence(msg) {
  msg = String(msg || '').trim();
  if (!msg) return 'Something went wrong; please try again.';
  for (const [re, f] of CODES) { const m = msg.match(re); if (m) return f(...m); }
  // A lower-case fragment from the engine: make it read as a sentence.
  msg = msg[0].toUpperCase() + msg.slice(1);
  return /[.!?]$/.test(msg) ? msg : msg + '.';
}

