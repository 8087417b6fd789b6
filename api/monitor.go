package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// Monitoring a live call on the supervisor's own phone (cti/monitor.go):
//
//	POST /api/v1/supervisor/monitor       {interactionId, mode, phone?}: start, or switch mode
//	POST /api/v1/supervisor/monitor/stop
//	GET  /api/v1/supervisor/monitor       the current monitor (404: none)
//
// Every step is audited in supervisor_actions (monitor_listen, _whisper,
// _barge, _stop) with the call, which puts it on the recording's timeline.

func (s *Server) monitorRoutes(sup fiber.Router) {
	sup.Get("/monitor", s.monitorGet)
	sup.Post("/monitor", s.monitorStart)
	sup.Post("/monitor/stop", s.monitorStop)
}

func (s *Server) monitorGet(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	v, ok, err := s.eng.Monitoring(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	if !ok {
		return newProblem(404, "you are not monitoring a call")
	}
	return c.JSON(v)
}

func (s *Server) monitorStart(c *fiber.Ctx) error {
	var in cti.MonitorRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if in.InteractionID == "" || len(in.InteractionID) > 128 {
		return badField("interactionId", "interactionId is required")
	}
	if len(in.Phone) > 64 {
		return badField("phone", "phone is too long")
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	// Only calls of agents the supervisor looks after (as if others did not exist).
	snap, err := s.eng.Supervisor(ctx)
	if err != nil {
		return err
	}
	var agentID int64
	for _, a := range snap.Agents {
		if a.InteractionID == in.InteractionID {
			agentID = a.ID
		}
	}
	if agentID == 0 {
		return newProblem(404, "no such call in progress")
	}
	if ok, err := s.canSupervise(ctx, u, agentID); err != nil {
		return err
	} else if !ok {
		return newProblem(404, "no such call in progress")
	}
	in.SupervisorID = u.ID
	in.Supervisor = u.DisplayName
	if in.Supervisor == "" {
		in.Supervisor = u.Username
	}
	v, err := s.eng.Monitor(ctx, in)
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	if aerr := postgres.RecordSupervisorAction(ctx, s.o.DB, postgres.SupervisorAction{At: s.o.Now().UTC(), SupervisorID: u.ID,
		AgentID: &agentID, InteractionID: in.InteractionID, Action: "monitor_" + string(in.Mode), Outcome: outcome}); aerr != nil {
		s.log.Error("audit monitor", "err", aerr)
		if err == nil {
			return aerr
		}
	}
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) monitorStop(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	v, err := s.eng.StopMonitor(ctx, u.ID)
	if err != nil {
		return err
	}
	agentID := v.AgentID
	if err := postgres.RecordSupervisorAction(ctx, s.o.DB, postgres.SupervisorAction{At: s.o.Now().UTC(), SupervisorID: u.ID,
		AgentID: &agentID, InteractionID: v.InteractionID, Action: "monitor_stop"}); err != nil {
		return err
	}
	return c.JSON(v)
}
