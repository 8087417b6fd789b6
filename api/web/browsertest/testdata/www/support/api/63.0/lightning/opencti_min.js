// Stand-in for Salesforce's opencti_min.js, loaded by the adaptor when its
// configured Salesforce origin is the test server (see
// test/opencti-harness.html). It records every call in the framing page's
// window.openctiCalls (same origin) and lets the harness drive Salesforce's
// side through window.sforceHarness.
//
// It models what the adaptor depends on, from Salesforce's Open CTI
// Developer Guide (Lightning Experience methods,
// developer.salesforce.com/docs/service/api-cti/guide):
//   - callbacks get {success, returnValue, errors}; errors is an array of
//     messages when success is false. top.openctiFail = {method: [msgs]}
//     makes that method fail (sforce-api-cti-refreshview-lex "Response").
//   - The real library finds Salesforce's frame from the sfdcIframeOrigin
//     (and mode) parameters Salesforce adds to the adapter URL; without them
//     every call fails, as a page opened outside Salesforce would.
//   - searchAndScreenPop's returnValue maps ids to {Id, Name, RecordType}:
//     top.openctiSearchResult (default one Contact; {} = no match; several
//     = multi-match).
//   - onClickToDial payload {number (a number, per the guide), recordId,
//     recordName, objectType} (sforce-api-cti-onclicktodial-lex).
//   - getAppViewInfo returnValue / onNavigationChange payload {url,
//     recordId, recordName, objectType}, only url off a record page
//     (sforce-api-cti-getappviewinfo-lex, -onnavigationchange-lex).
//   - getCallCenterSettings returnValue {"/section/item": value}.
(function () {
  var top = window.parent !== window ? window.parent : window;
  var log = top.openctiCalls = top.openctiCalls || [];
  var frame = window.name || 'adaptor';
  var q = new URLSearchParams(location.search);
  var sfdcOrigin = q.get('sfdcIframeOrigin'), mode = q.get('mode');
  var clickListeners = [], navListeners = [];
  function rec(method, args) {
    var copy = JSON.parse(JSON.stringify(args || {}, function (k, v) { return typeof v === 'function' ? undefined : v; }));
    log.push({frame: frame, method: method, args: copy, at: Date.now()});
    if (top.onOpenctiCall) top.onOpenctiCall(log[log.length - 1]);
  }
  function reply(method, args, value) {
    if (!args || !args.callback) return;
    var fail = (top.openctiFail || {})[method];
    if (!sfdcOrigin || mode !== 'Lightning') fail = ['Open CTI was not opened by Salesforce Lightning (sfdcIframeOrigin/mode missing).'];
    var r = fail ? {success: false, returnValue: null, errors: fail} : {success: true, returnValue: value === undefined ? null : value, errors: null};
    setTimeout(function () { args.callback(r); }, 0);
  }
  function method(name, value, check) {
    return function (a) {
      rec(name, a);
      var bad = check && check(a || {});
      if (bad) { if (a && a.callback) setTimeout(function () { a.callback({success: false, returnValue: null, errors: [bad]}); }, 0); return; }
      reply(name, a, typeof value === 'function' ? value(a) : value);
    };
  }
  // Panel sizes the guide allows (sforce-api-cti-setsoftphonepanelheight-lex, -width-lex).
  function between(field, lo, hi) {
    return function (a) { var n = a[field]; return typeof n === 'number' && n >= lo && n <= hi ? '' : field + ' must be a number from ' + lo + ' through ' + hi + '.'; };
  }
  function view() { return top.openctiView || {url: sfdcOrigin + '/lightning/page/home'}; }
  window.sforce = {opencti: {
    CALL_TYPE: {INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal'},
    SOFTPHONE_ITEM_TYPE: {},
    notifyInitializationComplete: function (a) { rec('notifyInitializationComplete', a); },
    enableClickToDial: method('enableClickToDial', null),
    disableClickToDial: method('disableClickToDial', null),
    onClickToDial: function (a) { rec('onClickToDial', a); clickListeners.push(a.listener); },
    onNavigationChange: function (a) { rec('onNavigationChange', a); navListeners.push(a.listener); },
    setSoftphonePanelVisibility: method('setSoftphonePanelVisibility', null),
    setSoftphonePanelHeight: method('setSoftphonePanelHeight', null, between('heightPX', 240, 2560)),
    setSoftphonePanelWidth: method('setSoftphonePanelWidth', null, between('widthPX', 200, 1920)),
    setSoftphoneItemLabel: method('setSoftphoneItemLabel', null, function (a) { return typeof a.label === 'string' ? '' : 'label must be a string.'; }),
    setSoftphoneItemIcon: method('setSoftphoneItemIcon', null),
    refreshView: method('refreshView', null),
    searchAndScreenPop: method('searchAndScreenPop', function () {
      return top.openctiSearchResult || {'003000000000001AAA': {Id: '003000000000001AAA', Name: 'Test Contact', RecordType: 'Contact'}};
    }),
    saveLog: method('saveLog', function () { return {recordId: '00T000000000001AAA'}; }),
    getAppViewInfo: method('getAppViewInfo', view),
    getCallCenterSettings: method('getCallCenterSettings', function () {
      return top.openctiSettings || {'/reqGeneralInfo/reqInternalName': 'ctidOpenCTI', '/reqGeneralInfo/reqSoftphoneHeight': '600',
        '/reqGeneralInfo/reqSoftphoneWidth': '300', '/reqCtid/reqLogCalls': 'true'};
    })
  }};
  window.sforceHarness = {
    // clickToDial(number[, recordId, objectType, recordName]): number as
    // given (a number, as the guide types it, or a string).
    clickToDial: function (number, recordId, objectType, recordName) {
      clickListeners.forEach(function (l) {
        l({number: number, recordId: recordId || '003000000000001AAA', recordName: recordName || 'Test Contact', objectType: objectType || 'Contact'});
      });
    },
    // navigate(view): the agent opens a page ({url, recordId, recordName, objectType}).
    navigate: function (v) { top.openctiView = v; navListeners.forEach(function (l) { l(v); }); }
  };
})();
