package cti

import "container/list"

// readyLines keep each campaign's Ready agents in the order they became
// idle, so the allocator takes the longest-idle one from the front instead
// of scanning every Ready agent per call (at 500 calls/s with thousands of
// agents the scan was most of the engine's time). An agent on several
// campaigns stands in each campaign's line.
type readyLines struct {
	by map[int64]*list.List // campaign id → *agent, longest idle first
}

// markReady records that a entered (ready true) or left Ready.
func (e *Engine) markReady(a *agent, ready bool) {
	id := a.user.ID
	if !ready {
		if _, was := e.ready[id]; was {
			delete(e.ready, id)
			e.leaveLines(a)
		}
		return
	}
	if _, was := e.ready[id]; was {
		e.leaveLines(a) // idle again: back of the line
	}
	e.ready[id] = a
	e.joinLines(a)
}

func (e *Engine) joinLines(a *agent) {
	for _, cid := range e.campaignsOf[a.user.ID] {
		l := e.lines.by[cid]
		if l == nil {
			l = list.New()
			e.lines.by[cid] = l
		}
		// Agents normally become idle in time order, so this stops at
		// once; an agent restored with an older idle time walks back.
		at := l.Back()
		for at != nil && at.Value.(*agent).idleSince.After(a.idleSince) {
			at = at.Prev()
		}
		var el *list.Element
		if at == nil {
			el = l.PushFront(a)
		} else {
			el = l.InsertAfter(a, at)
		}
		if a.lineAt == nil {
			a.lineAt = map[int64]*list.Element{}
		}
		a.lineAt[cid] = el
	}
}

func (e *Engine) leaveLines(a *agent) {
	for cid, el := range a.lineAt {
		if l := e.lines.by[cid]; l != nil {
			l.Remove(el)
		}
	}
	clear(a.lineAt)
}

// rebuildLines re-forms every line after campaign membership changed.
func (e *Engine) rebuildLines() {
	e.campaignsOf = map[int64][]int64{}
	for cid, m := range e.members {
		for uid := range m {
			e.campaignsOf[uid] = append(e.campaignsOf[uid], cid)
		}
	}
	e.lines.by = map[int64]*list.List{}
	for _, a := range e.agents {
		clear(a.lineAt)
	}
	for _, a := range e.ready {
		e.joinLines(a)
	}
}

// pickAgent returns the longest-idle Ready agent on the campaign whose
// phone can take a call.
func (e *Engine) pickAgent(camp *Campaign) *agent {
	l := e.lines.by[camp.ID]
	if l == nil {
		return nil
	}
	for el := l.Front(); el != nil; el = el.Next() {
		if a := el.Value.(*agent); e.phoneReady(a) {
			return a
		}
	}
	return nil
}
