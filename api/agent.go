package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
)

// Every agent route acts on the authenticated user's own agent: there is no
// agent id in any path, so an agent cannot act for another. The only id in a
// path (a call's interaction id) is checked by the engine against the
// agent's own call.

func (s *Server) snapshotReply(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	snap, err := s.eng.Snapshot(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(snap)
}

func (s *Server) agentSnapshot(c *fiber.Ctx) error { return s.snapshotReply(c) }

func (s *Server) agentLogin(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	snap, err := s.eng.Login(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(snap)
}

type connectRequest struct {
	Mode       *string `json:"mode"`
	Number     string  `json:"number"`
	Persistent bool    `json:"persistent"`
}

func (s *Server) agentConnect(c *fiber.Ctx) error {
	var req connectRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Mode == nil || *req.Mode == "" {
		return badField("mode", "mode is required: agent_calls or system_calls")
	}
	if len(req.Number) > 64 {
		return badField("number", "number is too long")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.eng.Connect(ctx, currentUser(c).ID, cti.ConnectRequest{
		Mode: cti.PhoneMode(*req.Mode), Number: req.Number, Persistent: req.Persistent})
	if err != nil {
		return err
	}
	return s.snapshotReply(c)
}

func (s *Server) agentReady(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.SetReady(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) agentPause(c *fiber.Ctx) error {
	var req reasonRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.SetPaused(ctx, currentUser(c).ID, req.Reason); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

// agentLogout pauses with the given reason first (the user guide asks for
// one) when the agent is Ready or Paused, then logs out of the CTI. The
// bearer token stays valid: the adaptor goes back to its login step.
func (s *Server) agentLogout(c *fiber.Ctx) error {
	var req reasonRequest
	if err := decode(c, &req, true); err != nil {
		return err
	}
	uid := currentUser(c).ID
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.Logout(ctx, uid, req.Reason); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

type dialRequest struct {
	Number     *string `json:"number"`
	CampaignID *int64  `json:"campaignId"`
}

func (s *Server) agentDial(c *fiber.Ctx) error {
	var req dialRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Number == nil || *req.Number == "" {
		return badField("number", "number is required")
	}
	if len(*req.Number) > 64 {
		return badField("number", "number is too long")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	info, err := s.eng.Dial(ctx, currentUser(c).ID, cti.DialRequest{Number: *req.Number, CampaignID: req.CampaignID})
	if err != nil {
		return err
	}
	c.Location("/api/v1/agent/calls/" + info.InteractionID)
	return c.Status(fiber.StatusCreated).JSON(info)
}

func (s *Server) agentHangup(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.Hangup(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

// agentDecline refuses the call being offered (ringing) to the agent: the
// caller goes to another agent and the agent is Paused "Declined a call".
func (s *Server) agentDecline(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.Decline(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

type notesRequest struct {
	Notes *string `json:"notes"`
}

func (s *Server) agentNotes(c *fiber.Ctx) error {
	var req notesRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Notes == nil {
		return badField("notes", "notes is required (send \"\" to clear)")
	}
	id := c.Params("id")
	if id == "" || len(id) > 128 {
		return newProblem(404, "no such call for this agent")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.SetNotes(ctx, currentUser(c).ID, id, *req.Notes); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type wrapRequest struct {
	Code   string  `json:"code"`
	Next   string  `json:"next"`
	Reason string  `json:"reason"`
	Notes  *string `json:"notes"`
}

func (s *Server) agentWrap(c *fiber.Ctx) error {
	var req wrapRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Notes != nil && len(*req.Notes) > 20000 {
		return badField("notes", "notes are limited to 20,000 characters")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.eng.Wrap(ctx, currentUser(c).ID, cti.WrapRequest{Code: req.Code, Next: req.Next, Reason: req.Reason, Notes: req.Notes})
	if err != nil {
		return err
	}
	return s.snapshotReply(c)
}

func (s *Server) agentExtendWrap(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.ExtendWrap(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

func (s *Server) pauseReasons(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := s.admin.PauseReasons(ctx, true)
	if err != nil {
		return err
	}
	return c.JSON(l)
}
