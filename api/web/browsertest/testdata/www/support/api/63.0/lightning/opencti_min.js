// Stand-in for Salesforce's opencti_min.js, loaded by the adaptor when its
// configured Salesforce origin is the test server (see test/opencti-harness.html). It records every
// call in the framing page's window.openctiCalls (same origin) and lets the
// harness fire click-to-dial through window.sforceHarness.
(function () {
  var top = window.parent !== window ? window.parent : window;
  var log = top.openctiCalls = top.openctiCalls || [];
  var frame = window.name || 'adaptor';
  var listeners = [];
  function rec(method, args) {
    var copy = JSON.parse(JSON.stringify(args || {}, function (k, v) { return typeof v === 'function' ? undefined : v; }));
    log.push({frame: frame, method: method, args: copy, at: Date.now()});
    if (top.onOpenctiCall) top.onOpenctiCall(log[log.length - 1]);
  }
  function ok(args, value) { if (args && args.callback) setTimeout(function () { args.callback({success: true, returnValue: value, errors: null}); }, 0); }
  window.sforce = {opencti: {
    CALL_TYPE: {INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal'},
    SOFTPHONE_ITEM_TYPE: {},
    notifyInitializationComplete: function (a) { rec('notifyInitializationComplete', a); },
    enableClickToDial: function (a) { rec('enableClickToDial', a); ok(a, null); },
    disableClickToDial: function (a) { rec('disableClickToDial', a); ok(a, null); },
    onClickToDial: function (a) { rec('onClickToDial', a); listeners.push(a.listener); },
    setSoftphonePanelVisibility: function (a) { rec('setSoftphonePanelVisibility', a); ok(a, null); },
    searchAndScreenPop: function (a) {
      rec('searchAndScreenPop', a);
      var recs = top.openctiSearchResult || {'003000000000001AAA': {Id: '003000000000001AAA', Name: 'Test Contact', RecordType: 'Contact'}};
      ok(a, recs);
    },
    saveLog: function (a) { rec('saveLog', a); ok(a, {recordId: '00T000000000001AAA'}); },
    getAppViewInfo: function (a) { rec('getAppViewInfo', a); ok(a, {}); }
  }};
  window.sforceHarness = {clickToDial: function (number, recordId) {
    listeners.forEach(function (l) { l({number: number, recordId: recordId || '003000000000001AAA', recordName: 'Test Contact', objectType: 'Contact'}); });
  }};
})();
