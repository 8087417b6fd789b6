// Taking a payment (Services tab). The customer keys the card on their
// phone; the screen only ever sees counts, the brand, validity and the last
// four. It tells the agent what to ask for at each step, shows progress as
// the customer keys, shows a decline as plainly as an approval, and Exit
// asks to confirm ("Leave") before returning to the call (or to wrap when
// the call ended meanwhile).
import {$, h, show, ask} from './dom.js';
import {S, onRender, on, render} from './state.js';
import {act, sentence} from './api.js';

const FIELDS = ['payRef', 'payExp', 'payName', 'payAmt'];
on('payment', (d, type) => {
  if (type === 'payment.ended') S.ext.payment = null;
  else S.ext.payment = {...S.ext.payment, ...d};
});

$('payOpen').addEventListener('click', async () => {
  const v = await act('POST', '/agent/payment/start');
  // payment.started (and progress) may have come over the websocket first: keep the newer.
  if (v?.progress) { if (!S.ext.payment) S.ext.payment = v; $('payErr').textContent = ''; render(); $('payRef').focus(); }
});
const payReset = async what => { const v = await act('POST', '/agent/payment/reset-' + what, undefined, $('payErr')); if (v?.progress) { S.ext.payment = {...v, result: null}; render(); } };
$('payResetCard').addEventListener('click', () => payReset('card'));
$('payResetCvv').addEventListener('click', () => payReset('cvv'));
$('pay').addEventListener('submit', async ev => {
  ev.preventDefault();
  const miss = FIELDS.find(i => !$(i).value.trim());
  if (miss) { $('payErr').textContent = 'Fill in ' + document.querySelector(`label[for=${miss}]`).textContent.replace(/ \(.*/, '') + '.'; $(miss).focus(); return; }
  if (!/^(0[1-9]|1[0-2])\/\d\d$/.test($('payExp').value.trim())) { $('payErr').textContent = 'Enter the expiry as MM/YY, for example 04/29.'; $('payExp').focus(); return; }
  $('payGo').disabled = true;
  if (S.ext.payment) S.ext.payment.result = null;
  const r = await act('POST', '/agent/payment/submit', {reference: $('payRef').value.trim(), expiry: $('payExp').value.trim(),
    cardholderName: $('payName').value.trim(), amount: $('payAmt').value.trim()}, $('payErr'));
  $('payGo').disabled = false;
  // payment.result may have come over the websocket before this reply.
  if (r?.progress && S.ext.payment && !S.ext.payment.result) { S.ext.payment = {...S.ext.payment, ...r}; render(); }
});
$('payExit').addEventListener('click', async () => {
  const p = S.ext.payment;
  const why = p?.result?.approved ? 'The payment was approved; you can return to the call.'
    : p?.result ? 'The payment was declined. Leaving discards the card details.'
      : (p?.progress?.card_digits || p?.progress?.cvv_digits) ? 'The card details keyed so far will be discarded.' : 'No payment has been taken.';
  if (!await ask('Leave the payment screen?', [h('p', {}, why)], 'Leave')) return;
  if (await act('POST', '/agent/payment/exit', undefined, $('payErr')) !== null) {
    S.ext.payment = null; FIELDS.forEach(i => { $(i).value = ''; });
    S.tab = S.snap?.call?.campaignId != null ? 'call' : 'info';
    render();
  }
});

// What to ask the customer, from the capture's phase.
function instruction(p) {
  const g = p.progress || {};
  if (p.charging) return 'Taking the payment… keep the customer on the line.';
  if (p.result) return '';
  if (g.phase === 'wiped') return 'The card details were erased. Press Reset Card to start again.';
  if (g.phase === 'complete') return 'Card details complete. Check the details below and press Make a Payment.';
  if (g.phase === 'cvv') return `Ask the customer to key the ${g.cvv_length || 3}-digit security code from the back of the card.` + (g.cvv_digits ? ` ${g.cvv_digits} keyed so far.` : '');
  if (g.card_digits) return `The customer is keying the card number: ${g.card_digits} digits so far. They press # when done.`;
  return 'Ask the customer to key their card number on their phone keypad, then press #.';
}

onRender(s => {
  if (!s.snap?.call) return;
  const p = s.ext.payment, g = p?.progress || {};
  show('payOpen', !p); show('pay', !!p);
  if (!p) return;
  $('payAsk').textContent = instruction(p);
  $('payCard').textContent = g.card_digits ? `${g.card_last4 ? '•'.repeat(Math.max(0, g.card_digits - 4)) + g.card_last4 : '•'.repeat(g.card_digits)} (${g.card_digits} digits${g.card_brand ? ', ' + g.card_brand : ''}${g.card_valid ? ', valid' : ''})` : '–';
  $('payCvv').textContent = g.cvv_digits ? '•'.repeat(g.cvv_digits) + (g.cvv_valid ? ' (valid)' : g.cvv_length ? ` (${g.cvv_digits} of ${g.cvv_length})` : '') : '–';
  $('payStep').textContent = {card: 'Step 1 of 3: card number', cvv: 'Step 2 of 3: security code', complete: 'Step 3 of 3: take the payment', wiped: 'Card details erased'}[g.phase] || '';
  const res = p.result, err = p.error || g.error;
  $('payResult').textContent = p.charging ? 'Processing…' : res
    ? (res.approved ? `Approved — receipt ${res.receipt || res.reference || ''}. Read the receipt to the customer.` : `Declined — ${res.decline_reason || 'no reason given'}. Tell the customer; they may try another card.`)
    : err ? sentence(err) : '';
  $('payResult').className = 'payresult' + (res ? (res.approved ? ' ok' : ' bad') : err ? ' warn' : '');
  $('payResult').setAttribute('role', res ? 'alert' : 'status');
  $('payGo').disabled = !!p.charging || !!res?.approved;
});
