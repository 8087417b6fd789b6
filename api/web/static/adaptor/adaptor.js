// ctid agent adaptor: native ES modules, no build step, no framework.
// State comes from GET /api/v1/agent and the agent's websocket; every
// control is a REST call; each module redraws its part from the shared
// state (state.js). One module per screen or capability:
//   login.js       sign in                      connect.js    phone connection
//   statusbar.js   status, time in state, menu  dialer.js     manual calls
//   call.js        call, info, notes, hold, mute, DTMF keypad
//   transfer.js    directory, quick connects, queues, consult
//   conference.js  parties and drop             recording.js  recording indicator
//   payment.js     taking a payment             preview.js    preview dialling
//   callbacks.js   schedule, list, cancel       wrap.js       wrap and auto-wrap
//   notices.js     what happened unasked        crm.js        Salesforce Open CTI
//   crmrecord.js   the Salesforce record a call is logged against, the pick among matches
//   browserphone.js  this page as the agent's phone (SIP.js in vendor/sip.js)
//   ws.js          websocket; session.js, api.js, state.js, dom.js: shared plumbing
import {$} from './dom.js';
import {S, render} from './state.js';
import {refresh, loadConfig} from './session.js';
import {openWS} from './ws.js';
import './login.js';
import './connect.js';
import './statusbar.js';
import './notices.js';
import './dialer.js';
import './preview.js';
import './call.js';
import './transfer.js';
import './conference.js';
import './recording.js';
import './payment.js';
import './callbacks.js';
import './wrap.js';
import './crm.js';

render();
if (S.token) { loadConfig(); refresh().then(() => { if (S.token) openWS(); }); }
else $('lgUser').focus();
