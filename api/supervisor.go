package api

import (
	"context"
	"time"

	"github.com/ctid/ctid/cti"
)

// ServiceLevelThreshold is the "answered within" of the service level.
const ServiceLevelThreshold = 20 * time.Second

// QueueSnapshot is one campaign's queue in the supervisor snapshot.
type QueueSnapshot struct {
	cti.QueueView
	// Today (since midnight UTC) on this campaign: calls answered, answered
	// within ServiceLevelThreshold, and abandoned (ended without an agent).
	AnsweredToday          int64    `json:"answeredToday"`
	AnsweredInThreshold    int64    `json:"answeredInThreshold"`
	AbandonedToday         int64    `json:"abandonedToday"`
	ServiceLevelPercent    *float64 `json:"serviceLevelPercent"` // null before any call ended or was answered
	ServiceLevelThresholdS int      `json:"serviceLevelThresholdSeconds"`
}

type slRow struct {
	CampaignID            int64
	Answered, InThreshold int64
	Abandoned             int64
}

// supervisorDetail fills the per-agent list and the per-campaign queues
// (live from the engine, service level from today's interactions).
func (s *Server) supervisorDetail(ctx context.Context, out *SupervisorSnapshot) error {
	v, err := s.eng.Supervisor(ctx)
	if err != nil {
		return err
	}
	out.Agents = v.Agents
	out.CallsByState = map[string]int{"queued": v.Queued, "offering": v.Offering, "dialing": v.Dialing, "connected": v.Connected}
	var rows []slRow
	day := s.o.Now().UTC().Truncate(24 * time.Hour)
	err = s.o.DB.WithContext(ctx).Raw(`SELECT campaign_id,
			count(*) FILTER (WHERE connected_at IS NOT NULL) AS answered,
			count(*) FILTER (WHERE connected_at IS NOT NULL AND queue_ms <= ?) AS in_threshold,
			count(*) FILTER (WHERE connected_at IS NULL AND ended_at IS NOT NULL) AS abandoned
		FROM interactions
		WHERE direction = 'IN' AND campaign_id IS NOT NULL AND parent_id IS NULL AND created_at >= ?
		GROUP BY campaign_id`, ServiceLevelThreshold.Milliseconds(), day).Scan(&rows).Error
	if err != nil {
		return err
	}
	byCampaign := map[int64]slRow{}
	for _, r := range rows {
		byCampaign[r.CampaignID] = r
	}
	out.Queues = make([]QueueSnapshot, 0, len(v.Queues))
	for _, q := range v.Queues {
		r := byCampaign[q.CampaignID]
		qs := QueueSnapshot{QueueView: q, AnsweredToday: r.Answered, AnsweredInThreshold: r.InThreshold,
			AbandonedToday: r.Abandoned, ServiceLevelThresholdS: int(ServiceLevelThreshold / time.Second)}
		if n := r.Answered + r.Abandoned; n > 0 {
			sl := 100 * float64(r.InThreshold) / float64(n)
			qs.ServiceLevelPercent = &sl
		}
		out.Queues = append(out.Queues, qs)
	}
	return nil
}
