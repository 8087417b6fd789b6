// The Salesforce Service Cloud Voice partner-telephony connector for ctid,
// on @salesforce/scv-connector-base 3.6.2 (vendor/, loaded as a classic
// script: its global is SCVConnectorBase). Salesforce frames this page and
// sends SETUP_CONNECTOR with a MessagePort; the SDK calls the methods of
// the VendorConnector below for Salesforce's requests and we publish
// ctid's websocket events back as the SDK's telephony events.
import {api, session, setToken, Events} from './ctid.js';

const B = window.SCVConnectorBase;
const {Constants, VendorConnector, initializeConnector, publishEvent, InitResult, ActiveCallsResult, CallResult, HangupResult,
  HoldToggleResult, MuteToggleResult, GenericResult, LogoutResult, PhoneCall, CallInfo, Contact, PhoneCallAttributes, AgentConfigResult,
  CapabilitiesResult, Phone, AgentStatusInfo, AgentVendorStatusInfo, RecordingToggleResult, ParticipantResult, PhoneContactsResult,
  SuperviseCallResult, SupervisorHangupResult} = B;
const {CALL_TYPE, CALL_STATE, PARTICIPANT_TYPE, AGENT_STATUS, CONTACT_TYPE, PHONE_TYPE, EVENT_TYPE} = Constants;

const $ = id => document.getElementById(id);
const LOGIN_HEIGHT = 300;
const ACTIVE = ['reserved', 'on_call'];
const LABEL = {logged_out: 'Logged out', logged_in: 'Logged in', connecting: 'Connecting', paused: 'Paused',
  ready: 'Ready', reserved: 'Ringing', on_call: 'On call', on_wrap: 'On wrap'};

const notImplemented = what => Object.assign(new Error(`ctid does not support ${what} from Salesforce.`), {type: Constants.ERROR_TYPE.GENERIC_ERROR});
const status = t => { $('st').textContent = t; };

export class CtidConnector extends VendorConnector {
  constructor() {
    super();
    this.config = {};
    this.snap = null;
    this.events = new Events(m => this.onEvent(m), e => this.ended(e));
    // What Salesforce already knows, so an event we caused is not told twice.
    this.told = new Map(); // interactionId -> {started, connected, ended}
    this.ctl = {held: false, muted: false};
    this.recPaused = null;
    this.lastStatus = null; // 'ready' | 'paused' as last told to / asked by Salesforce
    this.wantStatus = null; // a change Salesforce asked for, in flight
    // While a request from Salesforce is in flight, ctid's events wait: the
    // SDK publishes its own event for the request when it returns (HANGUP,
    // PARTICIPANT_ADDED, CALL_STARTED…), and what ctid says next (wrap
    // started, the consulted party connected) must come after it.
    this.holds = 0;
    this.waiting = [];
    this.afterActiveCalls = []; // END_CALL: the SDK asks getActiveCalls before its HANGUP; releases due then
    this.participants = new Set(); // transfers told as PARTICIPANT_CONNECTED
    this.supervisor = false; // may monitor calls (/supervisor/monitor)
    this.supervising = null; // {info, connected, timer}: the call being monitored
  }

  // request runs a Salesforce request with ctid's events held until the
  // SDK has published its own (it does so as soon as our promise settles;
  // a timer runs after that).
  async request(fn, {untilActiveCalls = false} = {}) {
    this.holds++;
    let done = false;
    const release = () => { if (!done) { done = true; this.release(); } };
    let ok = false;
    try { const r = await fn(); ok = true; return r; } finally {
      if (untilActiveCalls && ok) {
        this.afterActiveCalls.push(release);
        setTimeout(release, 10000); // should the SDK not ask, events do not wait for ever
      } else setTimeout(release, 0);
    }
  }
  release() {
    if (--this.holds > 0) return;
    const w = this.waiting;
    this.waiting = [];
    for (const m of w) this.onEvent(m);
  }

  // cfg reads a connector setting: the contact center's /reqCtid/reqName
  // field, or a plain name (tests, custom set-ups).
  cfg(name) {
    const c = this.config || {}, key = '/reqCtid/req' + name[0].toUpperCase() + name.slice(1);
    const v = c[key] ?? c[name];
    return v == null || v === '' ? undefined : String(v);
  }

  // ---------- set-up and login ----------
  async init(config) {
    this.config = config || {};
    if (session.token) {
      try { await this.start(); return new InitResult({}); }
      catch (e) { if (e.status !== 401) throw e; setToken(null); }
    }
    const u = this.cfg('username'), p = this.cfg('password');
    if (u && p) {
      try { await this.login(u, p); return new InitResult({}); }
      catch (e) { showLogin(this, e.message); return new InitResult({showLogin: true, loginFrameHeight: LOGIN_HEIGHT}); }
    }
    showLogin(this);
    return new InitResult({showLogin: true, loginFrameHeight: LOGIN_HEIGHT});
  }

  async login(username, password) {
    const r = await api('POST', '/auth/login', {username, password});
    setToken(r.token);
    await this.start();
  }

  // start logs the agent in to the CTI, connects the phone when it is not
  // (system_calls to the agent's default phone, kept open, unless the
  // contact center says otherwise) and opens the event stream.
  async start() {
    let s;
    try { s = await api('POST', '/agent/login'); } catch (e) { if (e.status !== 409) throw e; s = await api('GET', '/agent'); }
    this.snap = s;
    if (['logged_in', 'logged_out'].includes(s.state?.state) && this.cfg('phoneMode') !== 'none') {
      try {
        const mode = this.cfg('phoneMode') || 'system_calls', number = this.cfg('phoneNumber');
        // reqPersistent "false": ctid calls the phone for each call, which
        // then rings (and can be declined) instead of joining a kept line.
        const persistent = this.cfg('persistent') !== 'false';
        const r = await api('POST', '/agent/connect', {mode, ...(number ? {number} : {}), persistent});
        if (r.agentId) this.snap = r;
      } catch (e) { status('Signed in; the phone is not connected: ' + e.message); }
    }
    // A supervisor (or admin) may listen in and barge in: /supervisor/monitor
    // answers them 404 (nothing monitored) and an agent 403.
    this.supervisor = await api('GET', '/supervisor/monitor').then(() => true, e => e.status === 404);
    this.events.open();
    this.draw();
  }

  ended(e) {
    if (this.supervising) { clearInterval(this.supervising.timer); this.supervising = null; }
    setToken(null); this.snap = null; this.events.close();
    status(e?.message || 'Signed out.');
  }

  // ---------- ctid → Salesforce ----------
  onEvent(m) {
    if (this.holds > 0 && m.type !== 'hello') { this.waiting.push(m); return; }
    const d = m.data || {};
    // hello: the state as the stream opens (after the phone connected, or
    // after a drop); a status reached before it is told to Salesforce here.
    if (m.type === 'hello') { if (d.state) { this.snap = d; this.tellStatus(d.state); } this.draw(); return; }
    if (!this.snap) return;
    const s = this.snap;
    switch (m.type) {
      case 'agent.state':
        s.state = d;
        if (!['reserved', 'on_call', 'on_wrap'].includes(d.state)) {
          if (s.call) this.answered(s.call.interactionId, null); // missed, or the caller hung up
          s.call = null; s.controls = null;
        }
        if (d.state !== 'on_call') { s.transfer = null; s.conference = null; }
        this.tellStatus(d);
        break;
      case 'call.offered':
      case 'call.dialing':
        s.call = d;
        this.tellCall(d, 'started', EVENT_TYPE.CALL_STARTED, d);
        break;
      case 'call.connected':
        s.call = d;
        this.answered(d.interactionId, d);
        if (d.direction !== 'OUT') this.tellCall(d, 'started', EVENT_TYPE.CALL_STARTED, {...d, state: 'offering'});
        this.tellCall(d, 'connected', EVENT_TYPE.CALL_CONNECTED, d);
        break;
      case 'call.declined': // declined here or in another ctid window: the offer is gone
        if (s.call?.interactionId === d.interactionId) s.call = null;
        this.answered(d.interactionId, null);
        this.tellHangup({...d, state: 'ended'});
        break;
      case 'call.ended':
        if (s.call?.interactionId === d.interactionId) s.call = d;
        this.tellHangup(d, d.endReason);
        break;
      case 'call.controls':
        s.controls = d;
        if (!!d.held !== this.ctl.held) {
          this.ctl.held = !!d.held;
          publishEvent({eventType: EVENT_TYPE.HOLD_TOGGLE, payload: this.holdResult(this.ctl.held)});
        }
        if (!!d.muted !== this.ctl.muted) {
          this.ctl.muted = !!d.muted;
          publishEvent({eventType: EVENT_TYPE.MUTE_TOGGLE, payload: new MuteToggleResult({isMuted: this.ctl.muted})});
        }
        break;
      case 'recording.state': {
        s.recording = d;
        const paused = d.state === 'paused';
        if (['recording', 'paused'].includes(d.state) && this.recPaused !== null && paused !== this.recPaused) {
          publishEvent({eventType: EVENT_TYPE.RECORDING_TOGGLE, payload: new RecordingToggleResult({isRecordingPaused: paused})});
        }
        this.recPaused = ['recording', 'paused'].includes(d.state) ? paused : null;
        break;
      }
      case 'wrap.started':
        s.wrap = d;
        publishEvent({eventType: EVENT_TYPE.AFTER_CALL_WORK_STARTED, payload: {callId: d.interactionId}});
        break;
      case 'conference.state':
        s.conference = d;
        break;
      case 'transfer.state':
        s.transfer = ['ringing', 'consulting'].includes(d.state) ? d : null;
        if (d.state === 'consulting' && !this.participants.has(d.id)) {
          this.participants.add(d.id);
          publishEvent({eventType: EVENT_TYPE.PARTICIPANT_CONNECTED, payload: new ParticipantResult({initialCallHasEnded: false,
            callInfo: new CallInfo({isOnHold: false, isSoftphoneCall: false}), phoneNumber: d.target, callId: d.id})});
        }
        break;
    }
    this.draw();
  }

  // tell runs publish once per call and step.
  tell(c, step, publish) {
    const id = c.interactionId;
    if (!id) return;
    const t = this.told.get(id) || {};
    if (t[step]) return;
    t[step] = true; this.told.set(id, t);
    if (step === 'started' || step === 'connected') { this.ctl = {held: false, muted: false}; this.recPaused = null; }
    publish();
  }
  toldAs(id, step) { const t = this.told.get(id) || {}; t[step] = true; this.told.set(id, t); }
  // tellCall publishes eventType (CALL_STARTED, CALL_CONNECTED) for call c
  // as the PhoneCall of view, once per step; tellHangup its HANGUP.
  tellCall(c, step, eventType, view) { this.tell(c, step, () => publishEvent({eventType, payload: new CallResult({call: this.phoneCall(view)})})); }
  tellHangup(c, reason) {
    this.tell(c, 'ended', () => publishEvent({eventType: EVENT_TYPE.HANGUP,
      payload: new HangupResult({calls: [this.phoneCall(c, {reason: reason || Constants.HANGUP_REASON.PHONE_CALL_ENDED})]})}));
  }
  // toldDuring runs a request after which the SDK publishes the event of
  // step for call id itself (HANGUP after END_CALL, say): marked told first,
  // so ctid's own event is not told again, and unmarked if the request fails.
  async toldDuring(id, step, fn) {
    if (!id) return fn();
    const before = {...(this.told.get(id) || {})};
    this.toldAs(id, step);
    try { return await fn(); } catch (e) { this.told.set(id, before); throw e; }
  }

  // tellStatus publishes an agent status change made in ctid (Ready or
  // Paused) as SET_AGENT_STATUS with the Salesforce presence status the
  // contact center maps it to.
  tellStatus(d) {
    const key = d.state === 'ready' ? 'ready' : d.state === 'paused' ? 'paused' : null;
    if (!key) return;
    if (this.wantStatus === key) { this.wantStatus = null; this.lastStatus = key; return; }
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    const statusId = this.cfg(key + 'StatusId');
    if (statusId) publishEvent({eventType: EVENT_TYPE.SET_AGENT_STATUS, payload: new AgentStatusInfo({statusId})});
  }

  phoneCall(c, extra = {}) {
    const ctl = this.snap?.controls?.interactionId === c.interactionId ? this.snap.controls : {};
    const state = {offering: CALL_STATE.RINGING, dialing: CALL_STATE.RINGING, connected: CALL_STATE.CONNECTED, ended: CALL_STATE.ENDED}[c.state] || CALL_STATE.CONNECTED;
    const ts = Date.parse(c.endedAt || c.connectedAt || '');
    return new PhoneCall({
      callId: c.interactionId,
      callType: c.direction === 'OUT' ? CALL_TYPE.OUTBOUND : CALL_TYPE.INBOUND,
      contact: new Contact({phoneNumber: c.customerNumber || undefined}),
      phoneNumber: c.customerNumber || undefined,
      state,
      callAttributes: new PhoneCallAttributes({participantType: PARTICIPANT_TYPE.INITIAL_CALLER, isOnHold: !!ctl.held}),
      callInfo: new CallInfo({isOnHold: !!ctl.held, isMuted: !!ctl.muted, isRecordingPaused: this.snap?.recording?.state === 'paused',
        isSoftphoneCall: false, callStateTimestamp: ts ? new Date(ts) : null, queueName: c.campaignName || null,
        queueId: c.campaignId != null ? String(c.campaignId) : null, recordEnabled: !!this.snap?.permissions?.recordingControl,
        // A kept line takes an offered call at once: only a ringing phone can decline.
        declineEnabled: c.direction !== 'OUT' && !this.snap?.phone?.persistent, swapEnabled: false}),
      ...extra,
    });
  }
  holdResult(held) {
    const c = this.snap?.call, calls = c ? {[c.interactionId]: this.phoneCall(c)} : undefined;
    return new HoldToggleResult({isThirdPartyOnHold: false, isCustomerOnHold: held, calls});
  }
  current() {
    const c = this.snap?.call;
    if (!c || c.state === 'ended' || !ACTIVE.includes(this.snap.state?.state)) return null;
    return c;
  }
  async refresh() { this.snap = await api('GET', '/agent'); this.draw(); return this.snap; }

  draw() {
    if (!this.snap) return;
    $('login').hidden = true;
    const c = this.current();
    status(`${this.snap.displayName} · ${LABEL[this.snap.state?.state] || this.snap.state?.state}` +
      (this.snap.phone?.connected ? '' : ' · phone off') + (c ? ` · ${c.customerNumber}` : '') +
      (this.answers?.length ? ' · Answer the call on your phone.' : ''));
  }

  // ---------- Salesforce → ctid ----------
  async getActiveCalls() {
    try { await this.refresh(); } finally {
      const release = this.afterActiveCalls.shift();
      if (release) setTimeout(release, 0);
    }
    const c = this.current();
    return new ActiveCallsResult({activeCalls: c ? [this.phoneCall(c)] : []});
  }

  async getAgentConfig() {
    const ph = this.snap?.phone || {}, number = ph.number || ph.defaultNumber || undefined;
    return new AgentConfigResult({phones: [PHONE_TYPE.DESK_PHONE], selectedPhone: new Phone({type: PHONE_TYPE.DESK_PHONE, number})});
  }

  // setAgentConfig: the agent picked another desk phone number in
  // Salesforce: ctid calls that number from now on.
  async setAgentConfig(config) {
    const number = config?.selectedPhone?.number;
    if (!number) return new GenericResult({success: true});
    const r = await api('POST', '/agent/connect', {mode: 'system_calls', number, persistent: true});
    if (r.agentId) this.snap = r;
    return new GenericResult({success: true});
  }

  async getCapabilities() {
    return new CapabilitiesResult({hasMute: true, hasRecord: !!this.snap?.permissions?.recordingControl, hasMerge: true, hasSwap: false,
      hasSignedRecordingUrl: false, debugEnabled: false, hasContactSearch: true, hasBlindTransfer: true,
      hasSupervisorListenIn: this.supervisor, hasSupervisorBargeIn: this.supervisor});
  }

  // ctid connects an offered call by itself (the agent's kept line, or the
  // desk phone answered): accepting tells Salesforce the call as it is.
  // A call still ringing the desk phone is accepted by answering the phone:
  // Accept waits for that (the SDK then publishes CALL_CONNECTED, once).
  async acceptCall(call) {
    const c = this.current() || (await this.refresh(), this.current());
    if (!c) throw new Error('There is no call to accept.');
    const id = c.interactionId;
    if (c.state === 'connected') { this.toldAs(id, 'connected'); return new CallResult({call: this.phoneCall(c)}); }
    if (this.told.get(id)?.connected) throw new Error('The call is already connected.');
    this.toldAs(id, 'connected'); // the SDK publishes CALL_CONNECTED when we return
    const got = await new Promise(resolve => {
      const w = {id, resolve, timer: setTimeout(() => done(null), 120000)};
      const done = v => { clearTimeout(w.timer); this.answers = (this.answers || []).filter(x => x !== w); resolve(v); };
      w.done = done;
      (this.answers ||= []).push(w);
      this.draw();
    });
    if (!got) {
      const t = this.told.get(id);
      if (t) t.connected = false;
      this.draw();
      throw new Error('The call was not answered on your phone.');
    }
    this.ctl = {held: false, muted: false}; this.recPaused = null;
    this.draw();
    return new CallResult({call: this.phoneCall(got)});
  }
  // answered settles the Accepts waiting for call id: the call when it
  // connected, null when the offer went away.
  answered(id, call) { for (const w of [...(this.answers || [])]) if (w.id === id) w.done(call); }

  // declineCall: ctid gives the caller to another agent and pauses this
  // one ("Declined a call"); the SDK publishes the HANGUP itself.
  async declineCall(call) {
    const c = this.current() || (await this.refresh(), this.current());
    if (!c) throw new Error('There is no call being offered to you.');
    const id = c.interactionId;
    await this.toldDuring(id, 'ended', () => api('POST', '/agent/decline'));
    if (this.snap?.call?.interactionId === id) this.snap.call = null;
    this.draw();
    return new CallResult({call: this.phoneCall({...c, state: 'ended'}, {reason: Constants.HANGUP_REASON.PHONE_CALL_ENDED})});
  }

  async endCall(call) {
    if (call?.callType === CALL_TYPE.ADD_PARTICIPANT) { // the consulted party
      await api('POST', '/agent/transfer/cancel');
      return new HangupResult({calls: [new PhoneCall({callId: call.callId, callType: CALL_TYPE.ADD_PARTICIPANT, state: CALL_STATE.ENDED,
        callAttributes: new PhoneCallAttributes({participantType: PARTICIPANT_TYPE.THIRD_PARTY})})]});
    }
    const c = this.current();
    if (!c) throw new Error('There is no call to end.');
    // Ending my own side while consulting hands the caller to the consulted
    // party (a warm transfer); in a conference I leave and the others carry
    // on; otherwise the call ends.
    const path = this.snap?.transfer?.state === 'consulting' ? '/agent/transfer/complete'
      : this.snap?.conference?.parties?.length ? '/agent/conference/leave' : '/agent/hangup';
    await this.toldDuring(c.interactionId, 'ended', () => api('POST', path)); // the SDK publishes HANGUP itself
    return new HangupResult({calls: [this.phoneCall({...c, state: 'ended'}, {reason: Constants.HANGUP_REASON.PHONE_CALL_ENDED})]});
  }

  async mute() { return this.toggle('muted', true, '/agent/mute', () => new MuteToggleResult({isMuted: true})); }
  async unmute() { return this.toggle('muted', false, '/agent/unmute', () => new MuteToggleResult({isMuted: false})); }
  async hold() { return this.toggle('held', true, '/agent/hold', () => this.holdResult(true)); }
  async resume() { return this.toggle('held', false, '/agent/resume', () => this.holdResult(false)); }
  async toggle(k, v, path, result) {
    const was = this.ctl[k];
    this.ctl[k] = v; // the call.controls event that follows is ours
    try { await api('POST', path); } catch (e) { this.ctl[k] = was; throw e; }
    if (this.snap?.controls) this.snap.controls[k] = v;
    return result();
  }

  async sendDigits(digits) { await api('POST', '/agent/dtmf', {digits: String(digits)}); }

  async dial(contact) {
    const number = (contact.prefix || '') + (contact.phoneNumber || '');
    if (!number) throw Object.assign(new Error('No number to dial.'), {type: Constants.ERROR_TYPE.INVALID_DESTINATION});
    const camp = this.cfg('campaignId');
    let c;
    try { c = await api('POST', '/agent/calls', {number, ...(camp ? {campaignId: Number(camp)} : {})}); }
    catch (e) { if (e.status === 400 || e.status === 422) e.type = Constants.ERROR_TYPE.INVALID_DESTINATION; throw e; }
    this.toldAs(c.interactionId, 'started'); // the SDK publishes CALL_STARTED
    if (this.snap) this.snap.call = c;
    return new CallResult({call: this.phoneCall({...c, state: c.state || 'dialing', direction: 'OUT'})});
  }

  // addParticipant: a transfer in ctid, blind or consult; an Agent
  // contact is a ctid user (id = username), a Queue a campaign.
  async addParticipant(contact, call, isBlindTransfer) {
    const type = contact.type === CONTACT_TYPE.AGENT ? 'agent' : contact.type === CONTACT_TYPE.QUEUE ? 'queue' : 'number';
    const target = type === 'number' ? (contact.prefix || '') + (contact.phoneNumber || '') : String(contact.id || contact.phoneNumber || '');
    if (!target) throw Object.assign(new Error('No one to add.'), {type: Constants.ERROR_TYPE.INVALID_DESTINATION});
    // A blind transfer ends my call: the SDK publishes its HANGUP itself.
    const id = isBlindTransfer ? call?.callId || this.current()?.interactionId : null;
    const v = await this.toldDuring(id, 'ended', () => api('POST', '/agent/transfer', {type, target, mode: isBlindTransfer ? 'blind' : 'consult'})
      .catch(e => { if (e.status === 400) e.type = Constants.ERROR_TYPE.INVALID_DESTINATION; throw e; }));
    return new ParticipantResult({initialCallHasEnded: !!isBlindTransfer, callInfo: new CallInfo({isOnHold: false, isSoftphoneCall: false}),
      phoneNumber: contact.phoneNumber || contact.name || target, callId: v.id});
  }

  async conference() {
    await api('POST', '/agent/transfer/merge');
    return new HoldToggleResult({isThirdPartyOnHold: false, isCustomerOnHold: false});
  }
  async swap() { throw notImplemented('swapping calls'); }

  async pauseRecording() {
    this.recPaused = true;
    await api('POST', '/agent/recording/pause');
    return new RecordingToggleResult({isRecordingPaused: true});
  }
  async resumeRecording() {
    this.recPaused = false;
    await api('POST', '/agent/recording/resume');
    return new RecordingToggleResult({isRecordingPaused: false});
  }

  // setAgentStatus: Online → Ready; Offline (any other presence status) →
  // Paused, with the status's name as the pause reason when ctid has it;
  // during wrap-up the wrap is finished into that state.
  async setAgentStatus(agentStatus, statusInfo = {}) {
    if (agentStatus === AGENT_STATUS.ACW) return new GenericResult({success: true});
    const s = this.snap || await this.refresh(), st = s.state?.state, key = agentStatus === AGENT_STATUS.ONLINE ? 'ready' : 'paused';
    const reasons = s.pauseReasons || [], name = statusInfo.statusName || statusInfo.statusApiName;
    const reason = reasons.includes(name) ? name : this.cfg('pauseReason') || reasons[0] || name || 'Salesforce';
    if (st === key && (key === 'ready' || s.state.pauseReason === reason)) { this.lastStatus = key; return new GenericResult({success: true}); }
    this.wantStatus = key;
    try {
      let r;
      if (st === 'on_wrap') r = await api('POST', '/agent/wrap', {...(await this.wrapCode()), ...(key === 'ready' ? {next: 'ready'} : {next: 'paused', reason})});
      else if (key === 'ready') r = await api('POST', '/agent/ready');
      else r = await api('POST', '/agent/pause', {reason});
      if (r?.agentId && r.seq >= (this.snap?.seq || 0)) this.snap = r;
      this.lastStatus = key;
    } catch (e) {
      this.wantStatus = null;
      if (e.status === 409) e.type = Constants.ERROR_TYPE.INVALID_AGENT_STATUS;
      throw e;
    }
    this.draw();
    return new GenericResult({success: true});
  }

  async getAgentStatus() {
    const s = await this.refresh(), st = s.state?.state;
    return new AgentVendorStatusInfo({statusId: st, statusType: ['ready'].includes(st) ? 'routable' : st === 'paused' || st === 'logged_out' ? 'offline' : 'busy',
      statusName: LABEL[st] + (st === 'paused' && s.state.pauseReason ? ' – ' + s.state.pauseReason : '')});
  }

  async getPhoneContacts(filter) {
    const q = filter?.contains ? '?q=' + encodeURIComponent(filter.contains) : '';
    const d = await api('GET', '/agent/directory' + q);
    const me = this.snap?.username;
    const contacts = [
      ...(d.agents || []).filter(a => a.username !== me).map(a => new Contact({id: a.username, type: CONTACT_TYPE.AGENT, name: a.displayName || a.username,
        availability: a.state === 'Ready' ? Constants.AGENT_AVAILABILITY.AVAILABLE : a.state === 'Logged out' ? Constants.AGENT_AVAILABILITY.OFFLINE : Constants.AGENT_AVAILABILITY.BUSY})),
      ...(d.queues || []).map(q => new Contact({id: String(q.campaignId), type: CONTACT_TYPE.QUEUE, name: q.name})),
      ...(d.quickConnects || []).filter(x => x.type === 'number').map(x => new Contact({id: 'qc' + x.id, type: CONTACT_TYPE.PHONEBOOK, name: x.name, phoneNumber: x.target})),
    ];
    return new PhoneContactsResult({contacts, contactTypes: [CONTACT_TYPE.AGENT, CONTACT_TYPE.QUEUE, CONTACT_TYPE.PHONEBOOK]});
  }

  // Salesforce closes after-call work: wrap with the campaign's default
  // code; the next status follows from setAgentStatus.
  async wrapUpCall() {
    if (this.snap?.state?.state === 'on_wrap') await api('POST', '/agent/wrap', await this.wrapCode()).catch(e => status(e.message));
  }
  // wrapCode is the campaign's default wrap code (or the contact center's).
  async wrapCode() {
    const code = this.cfg('wrapCode') || this.snap?.wrap?.defaultCode || (await this.refresh()).wrap?.defaultCode;
    return code ? {code} : {};
  }

  async logout() {
    const reasons = this.snap?.pauseReasons || [];
    await api('POST', '/agent/logout', {reason: this.cfg('pauseReason') || reasons[0] || ''}).catch(() => {});
    await api('POST', '/auth/logout').catch(() => {});
    this.ended();
    showLogin(this);
    return new LogoutResult({success: true, loginFrameHeight: LOGIN_HEIGHT});
  }

  handleMessage() {}
  async getSignedRecordingUrl() { throw notImplemented('recording playback'); }

  // ---------- supervisors: ctid's monitor on the supervisor's own phone ----------
  // superviseCall listens in (ctid calls the supervisor's default phone);
  // SUPERVISOR_CALL_CONNECTED follows when they answer, SUPERVISOR_HANGUP
  // when the monitor ends by itself (the call ended).
  async superviseCall(call) {
    const id = call?.callId;
    if (!id) throw new Error('There is no call to supervise.');
    if (this.supervising) await this.stopMonitor();
    const v = await api('POST', '/supervisor/monitor', {interactionId: String(id), mode: 'listen'});
    this.supervising = {info: call, connected: v.state === 'active', timer: setInterval(() => this.watchMonitor(), 1000)};
    return new SuperviseCallResult({call: this.supervisedCall(v.state === 'active' ? CALL_STATE.CONNECTED : CALL_STATE.RINGING)});
  }
  async supervisorBargeIn(call) {
    const id = call?.callId || this.supervising?.info?.callId;
    if (!id) throw new Error('You are not supervising a call.');
    await api('POST', '/supervisor/monitor', {interactionId: String(id), mode: 'barge'});
    if (this.supervising) this.supervising.info = {...this.supervising.info, isBargedIn: true};
    return new SuperviseCallResult({call: this.supervisedCall(CALL_STATE.CONNECTED)});
  }
  async supervisorDisconnect() {
    const c = this.supervisedCall(CALL_STATE.ENDED);
    await this.stopMonitor();
    return new SupervisorHangupResult({calls: [c]});
  }
  async stopMonitor() {
    const m = this.supervising;
    this.supervising = null;
    if (m) clearInterval(m.timer);
    await api('POST', '/supervisor/monitor/stop').catch(e => { if (e.status !== 404) throw e; });
  }
  async watchMonitor() {
    const m = this.supervising;
    if (!m || m.busy) return;
    m.busy = true;
    let v = null;
    try { v = await api('GET', '/supervisor/monitor'); } catch (e) { if (e.status !== 404) { m.busy = false; return; } }
    m.busy = false;
    if (this.supervising !== m) return;
    if (!v || v.state === 'ended') {
      clearInterval(m.timer);
      this.supervising = null;
      publishEvent({eventType: EVENT_TYPE.SUPERVISOR_HANGUP, payload: new SupervisorHangupResult({calls: [this.supervisedCall(CALL_STATE.ENDED, m)]})});
    } else if (v.state === 'active' && !m.connected) {
      m.connected = true;
      publishEvent({eventType: EVENT_TYPE.SUPERVISOR_CALL_CONNECTED, payload: new SuperviseCallResult({call: this.supervisedCall(CALL_STATE.CONNECTED, m)})});
    }
  }
  supervisedCall(state, m = this.supervising) {
    const i = m?.info || {}, number = i.from || i.to || undefined;
    return new PhoneCall({callId: String(i.callId || ''), callType: i.callType || CALL_TYPE.INBOUND, phoneNumber: number, contact: new Contact({phoneNumber: number}),
      state, callAttributes: new PhoneCallAttributes({participantType: PARTICIPANT_TYPE.SUPERVISOR}),
      callInfo: new CallInfo({isOnHold: false, isSoftphoneCall: false})});
  }
}

// The requests after which the SDK publishes an event of its own hold
// ctid's events until it has (see request).
for (const [name, opt] of [['declineCall'], ['endCall', {untilActiveCalls: true}], ['toggle'], ['dial'], ['addParticipant'],
  ['conference'], ['pauseRecording'], ['resumeRecording']]) {
  const f = CtidConnector.prototype[name];
  CtidConnector.prototype[name] = function (...args) { return this.request(() => f.apply(this, args), opt); };
}

// showLogin shows the sign-in form Salesforce makes room for (SHOW_LOGIN);
// success is published as LOGIN_RESULT and the SDK then tells Salesforce
// the connector is ready.
function showLogin(conn, msg = '') {
  $('login').hidden = false;
  $('lgErr').textContent = msg;
  status('Sign in with your ctid account.');
  $('lgUser').focus();
  $('login').onsubmit = async ev => {
    ev.preventDefault();
    const u = $('lgUser').value.trim(), p = $('lgPass').value;
    if (!u || !p) { $('lgErr').textContent = u ? 'Enter your password.' : 'Enter your username.'; return; }
    $('lgBtn').disabled = true; $('lgErr').textContent = '';
    try {
      await conn.login(u, p);
      $('lgPass').value = '';
      publishEvent({eventType: EVENT_TYPE.LOGIN_RESULT, payload: new GenericResult({success: true})});
    } catch (e) {
      $('lgErr').textContent = e.message;
    } finally { $('lgBtn').disabled = false; }
  };
}

if (B) {
  window.ctidConnector = new CtidConnector();
  initializeConnector(window.ctidConnector);
} else {
  status('The Salesforce connector library did not load.');
}
