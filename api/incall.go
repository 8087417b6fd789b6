package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
)

// In-call and outbound agent routes: transfers and conferences, recording
// control and bookmarks, announcements, payment capture and preview dialling.
// Like every agent route they act on the caller's own agent and call.

type transferRequest struct {
	Type   *string `json:"type"`
	Target *string `json:"target"`
	Mode   string  `json:"mode"`
}

func (s *Server) agentTransfer(c *fiber.Ctx) error {
	var req transferRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Type == nil || *req.Type == "" {
		return badField("type", "type is required: agent, queue, workflow or number")
	}
	switch *req.Type {
	case "agent", "queue", "workflow", "number":
	default:
		return badField("type", "type must be agent, queue, workflow or number")
	}
	if req.Target == nil || *req.Target == "" {
		return badField("target", "target is required")
	}
	if len(*req.Target) > 128 {
		return badField("target", "target is too long")
	}
	switch req.Mode {
	case "", "blind", "consult":
	default:
		return badField("mode", "mode must be blind or consult")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	v, err := s.eng.Transfer(ctx, currentUser(c).ID, cti.TransferRequest{Type: *req.Type, Target: *req.Target, Mode: req.Mode})
	if err != nil {
		return transferTargetError(*req.Type, err)
	}
	return c.JSON(v)
}

func (s *Server) agentTransferAction(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := decode(c, &struct{}{}, true); err != nil {
			return err
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		v, err := s.eng.TransferAction(ctx, currentUser(c).ID, action)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

func (s *Server) agentConferenceEnd(terminate bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := decode(c, &struct{}{}, true); err != nil {
			return err
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		if err := s.eng.ConferenceEnd(ctx, currentUser(c).ID, terminate); err != nil {
			return err
		}
		return s.snapshotReply(c)
	}
}

func (s *Server) agentRecording(pause bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := decode(c, &struct{}{}, true); err != nil {
			return err
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		if err := s.eng.PauseRecording(ctx, currentUser(c).ID, pause); err != nil {
			return err
		}
		return s.snapshotReply(c)
	}
}

// BookmarkView is a bookmark as the API shows it.
type BookmarkView struct {
	RecordingName string    `json:"recordingName"`
	InteractionID string    `json:"interactionId"`
	OffsetMs      int64     `json:"offsetMs"`
	Note          string    `json:"note"`
	UserID        int64     `json:"userId"`
	Username      string    `json:"username,omitempty"`
	At            time.Time `json:"at"`
}

type bookmarkRequest struct {
	Note string `json:"note"`
}

func (s *Server) agentBookmark(c *fiber.Ctx) error {
	var req bookmarkRequest
	if err := decode(c, &req, true); err != nil {
		return err
	}
	if len(req.Note) > 1000 {
		return badField("note", "note is limited to 1000 characters")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	b, err := s.eng.AddBookmark(ctx, currentUser(c).ID, req.Note)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(BookmarkView{RecordingName: b.RecordingName, InteractionID: b.InteractionID,
		OffsetMs: b.OffsetMs, Note: b.Note, UserID: b.UserID, Username: currentUser(c).Username, At: b.At.UTC()})
}

func (s *Server) agentPlayAnnouncement(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return newProblem(404, "no such announcement on this campaign")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.PlayAnnouncement(ctx, currentUser(c).ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) agentStopAnnouncement(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.StopAnnouncement(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) agentPaymentStart(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	v, err := s.eng.StartPayment(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) agentPaymentReset(what string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := decode(c, &struct{}{}, true); err != nil {
			return err
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		v, err := s.eng.ResetPayment(ctx, currentUser(c).ID, what)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

type paymentRequest struct {
	Reference      string `json:"reference"`
	Expiry         string `json:"expiry"`
	CardholderName string `json:"cardholderName"`
	Amount         string `json:"amount"`
	Currency       string `json:"currency"`
}

// agentPaymentSubmit sends the payment. The body never carries card data:
// the card number and CVV were keyed by the customer on the phone.
func (s *Server) agentPaymentSubmit(c *fiber.Ctx) error {
	var req paymentRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	for f, v := range map[string]string{"reference": req.Reference, "expiry": req.Expiry, "cardholderName": req.CardholderName, "amount": req.Amount} {
		if v == "" {
			return badField(f, f+" is required")
		}
		if len(v) > 200 {
			return badField(f, f+" is too long")
		}
	}
	if len(req.Currency) > 3 {
		return badField("currency", "currency is an ISO 4217 code such as GBP")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	v, err := s.eng.MakePayment(ctx, currentUser(c).ID, cti.PaymentDetails{Reference: req.Reference, Expiry: req.Expiry,
		CardholderName: req.CardholderName, Amount: req.Amount, Currency: req.Currency})
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) agentPaymentExit(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.ExitPayment(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return s.snapshotReply(c)
}

type previewDialRequest struct {
	Number *string `json:"number"`
}

func (s *Server) agentPreviewDial(c *fiber.Ctx) error {
	var req previewDialRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Number == nil || *req.Number == "" {
		return badField("number", "number is required (one of the lead's numbers)")
	}
	if len(*req.Number) > 64 {
		return badField("number", "number is too long")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	info, err := s.eng.PreviewDial(ctx, currentUser(c).ID, *req.Number)
	if err != nil {
		return err
	}
	c.Location("/api/v1/agent/calls/" + info.InteractionID)
	return c.Status(fiber.StatusCreated).JSON(info)
}

func (s *Server) agentPreviewSkip(c *fiber.Ctx) error {
	var req reasonRequest
	if err := decode(c, &req, true); err != nil {
		return err
	}
	if len(req.Reason) > 200 {
		return badField("reason", "reason is limited to 200 characters")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.PreviewSkip(ctx, currentUser(c).ID, req.Reason); err != nil {
		return err
	}
	return s.snapshotReply(c)
}
