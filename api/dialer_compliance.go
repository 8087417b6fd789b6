package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/dialer"
)

// dialerCompliance is GET /admin/campaigns/{id}/dialer/compliance: the
// campaign's abandon rate over 24 hours (UK Ofcom) and 30 days (US TSR),
// from the dialler's records, with AMD false positives estimated in, and
// whether the campaign is dialling progressively because it reached its
// cap.
func (s *Server) dialerCompliance(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	dw, err := s.dialerOrUnavailable()
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if _, err := s.outboundCampaign(ctx, id); err != nil {
		return err
	}
	r, err := dw.Compliance(ctx, id)
	if errors.Is(err, dialer.ErrCampaignNotFound) {
		return newProblem(404, "no such campaign")
	}
	if err != nil {
		return err
	}
	return c.JSON(r)
}
