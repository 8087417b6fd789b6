package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// reload makes the engine pick up an admin change. The change is already
// committed, so a failed reload is logged rather than reported as a failure
// of the request; the next successful reload catches up.
func (s *Server) reload(c *fiber.Ctx) {
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	defer cancel()
	if err := s.eng.Reload(ctx); err != nil {
		s.log.Error("engine reload after admin change failed", "err", err, "request_id", c.Locals(localRequestID))
	}
}

func (s *Server) created(c *fiber.Ctx, path string, id int64, v any) error {
	s.reload(c)
	c.Location("/api/v1/admin/" + path + "/" + strconv.FormatInt(id, 10))
	return c.Status(fiber.StatusCreated).JSON(v)
}

// --- campaigns -----------------------------------------------------------------

func (s *Server) listCampaigns(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := s.admin.Campaigns(ctx)
	if err != nil {
		return err
	}
	for i := range l {
		l[i] = maskCampaign(l[i])
	}
	return c.JSON(l)
}

func (s *Server) getCampaign(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	r, err := s.admin.Campaign(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(maskCampaign(r))
}

func (s *Server) createCampaign(c *fiber.Ctx) error {
	var in postgres.CampaignRecord
	if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.checkPaymentSettings(ctx, 0, &in); err != nil {
		return err
	}
	if err := s.checkDialerSettings(ctx, 0, &in); err != nil {
		return err
	}
	r, err := s.admin.CreateCampaign(ctx, in)
	if err != nil {
		return err
	}
	return s.created(c, "campaigns", r.ID, maskCampaign(r))
}

func (s *Server) updateCampaign(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in postgres.CampaignRecord
	if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.checkPaymentSettings(ctx, id, &in); err != nil {
		return err
	}
	if err := s.checkDialerSettings(ctx, id, &in); err != nil {
		return err
	}
	r, err := s.admin.UpdateCampaign(ctx, id, in)
	if err != nil {
		return err
	}
	s.reload(c)
	return c.JSON(maskCampaign(r))
}

func (s *Server) deleteCampaign(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.admin.DeleteCampaign(ctx, id); err != nil {
		return err
	}
	s.reload(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// --- users -----------------------------------------------------------------------

type createUserRequest struct {
	Username             string   `json:"username"`
	Password             string   `json:"password"`
	DisplayName          string   `json:"displayName"`
	Role                 cti.Role `json:"role"`
	DefaultPhone         string   `json:"defaultPhone"`
	ManualCallWhenPaused *bool    `json:"manualCallWhenPaused"`
	TransferWhenPaused   bool     `json:"transferWhenPaused"`
	RecordingControl     bool     `json:"recordingControl"`
	CampaignIDs          []int64  `json:"campaignIds"`
	// Disabled creates the account switched off (the admin page sends it).
	Disabled bool `json:"disabled"`
}

type updateUserRequest struct {
	Password             *string   `json:"password"`
	DisplayName          *string   `json:"displayName"`
	Role                 *cti.Role `json:"role"`
	DefaultPhone         *string   `json:"defaultPhone"`
	ManualCallWhenPaused *bool     `json:"manualCallWhenPaused"`
	TransferWhenPaused   *bool     `json:"transferWhenPaused"`
	RecordingControl     *bool     `json:"recordingControl"`
	Disabled             *bool     `json:"disabled"`
	CampaignIDs          *[]int64  `json:"campaignIds"`
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := s.admin.Users(ctx)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) getUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.admin.User(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var in createUserRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if in.Username == "" {
		return badField("username", "username is required")
	}
	if in.Password == "" {
		return badField("password", "password is required")
	}
	if len(in.Username) > 100 {
		return badField("username", "username is limited to 100 characters")
	}
	if len(in.Password) > 1000 {
		return badField("password", "password is limited to 1000 characters")
	}
	role := in.Role
	if role == "" {
		role = cti.RoleAgent
	}
	if err := postgres.PasswordPolicy(role, in.Password); err != nil {
		return err
	}
	manual := true
	if in.ManualCallWhenPaused != nil {
		manual = *in.ManualCallWhenPaused
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.admin.CreateUser(ctx, postgres.NewUser{Username: in.Username, Password: in.Password,
		DisplayName: in.DisplayName, Role: in.Role, DefaultPhone: in.DefaultPhone,
		ManualCallWhenPaused: manual, TransferWhenPaused: in.TransferWhenPaused, RecordingControl: in.RecordingControl})
	if err != nil {
		return err
	}
	if in.CampaignIDs != nil {
		if u, err = s.admin.SetUserCampaigns(ctx, u.ID, in.CampaignIDs); err != nil {
			return err
		}
	}
	if in.Disabled {
		disabled := true
		if u, err = s.admin.UpdateUser(ctx, u.ID, postgres.UserPatch{Disabled: &disabled}); err != nil {
			return err
		}
	}
	return s.created(c, "users", u.ID, u)
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in updateUserRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if in.Password != nil && len(*in.Password) > 1000 {
		return badField("password", "password is limited to 1000 characters")
	}
	if cur := currentUser(c); cur.ID == id && ((in.Disabled != nil && *in.Disabled) || (in.Role != nil && *in.Role != cti.RoleAdmin)) {
		return newProblem(409, "you cannot disable yourself or drop your own admin role")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if in.Password != nil {
		role := in.Role
		if role == nil {
			cur, err := s.admin.User(ctx, id)
			if err != nil {
				return err
			}
			role = &cur.Role
		}
		if err := postgres.PasswordPolicy(*role, *in.Password); err != nil {
			return err
		}
	}
	u, err := s.admin.UpdateUser(ctx, id, postgres.UserPatch{Password: in.Password, DisplayName: in.DisplayName,
		Role: in.Role, DefaultPhone: in.DefaultPhone, ManualCallWhenPaused: in.ManualCallWhenPaused,
		TransferWhenPaused: in.TransferWhenPaused, RecordingControl: in.RecordingControl, Disabled: in.Disabled})
	if err != nil {
		return err
	}
	if in.CampaignIDs != nil {
		if u, err = s.admin.SetUserCampaigns(ctx, id, *in.CampaignIDs); err != nil {
			return err
		}
	}
	s.reload(c)
	return c.JSON(u)
}

// disableUser is DELETE: users are disabled, never removed, so their
// interactions keep their agent.
func (s *Server) disableUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if currentUser(c).ID == id {
		return newProblem(409, "you cannot disable yourself")
	}
	t := true
	ctx, cancel := s.ctx(c)
	defer cancel()
	if _, err := s.admin.UpdateUser(ctx, id, postgres.UserPatch{Disabled: &t}); err != nil {
		return err
	}
	s.reload(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// --- pause reasons -----------------------------------------------------------------

type nameRequest struct {
	Name string `json:"name"`
}

func (s *Server) listPauseReasons(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := s.admin.PauseReasons(ctx, false)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) createPauseReason(c *fiber.Ctx) error {
	var in nameRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	r, err := s.admin.CreatePauseReason(ctx, in.Name)
	if err != nil {
		return err
	}
	return s.created(c, "pause-reasons", r.ID, r)
}

func (s *Server) updatePauseReason(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in nameRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	r, err := s.admin.RenamePauseReason(ctx, id, in.Name)
	if err != nil {
		return err
	}
	s.reload(c)
	return c.JSON(r)
}

func (s *Server) deletePauseReason(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.admin.DeletePauseReason(ctx, id); err != nil {
		return err
	}
	s.reload(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// --- workflows -------------------------------------------------------------------

func (s *Server) listWorkflows(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := s.admin.Workflows(ctx)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) getWorkflow(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	w, err := s.admin.Workflow(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(w)
}

func (s *Server) createWorkflow(c *fiber.Ctx) error {
	var in postgres.WorkflowRecord
	if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	w, err := s.admin.CreateWorkflow(ctx, in)
	if err != nil {
		return err
	}
	return s.created(c, "workflows", w.ID, w)
}

func (s *Server) updateWorkflow(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in postgres.WorkflowRecord
	if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	w, err := s.admin.UpdateWorkflow(ctx, id, in)
	if err != nil {
		return err
	}
	s.reload(c)
	return c.JSON(w)
}

func (s *Server) deleteWorkflow(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.admin.DeleteWorkflow(ctx, id); err != nil {
		return err
	}
	s.reload(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// --- supervisor --------------------------------------------------------------------

// SupervisorSnapshot is the live supervisor view.
type SupervisorSnapshot struct {
	Time          time.Time              `json:"time"`
	AgentsByState map[cti.AgentState]int `json:"agentsByState"`
	LoggedIn      int                    `json:"loggedIn"`
	Queued        int                    `json:"queued"`
	Calls         map[string]int64       `json:"calls"`
	AutoPaused    int64                  `json:"autoPaused"`
	Declined      int64                  `json:"declined"` // offers agents declined
	// Live detail (api/supervisor.go): every logged-in agent, calls by
	// state, and per-campaign queue with service level.
	Agents       []cti.SupervisorAgent `json:"agents"`
	CallsByState map[string]int        `json:"callsByState"`
	Queues       []QueueSnapshot       `json:"queues"`
}

func (s *Server) supervisorSnapshot(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	states, err := s.eng.AgentStates(ctx)
	if err != nil {
		return err
	}
	st, err := s.eng.Stats(ctx)
	if err != nil {
		return err
	}
	out := SupervisorSnapshot{Time: s.o.Now().UTC(), AgentsByState: map[cti.AgentState]int{}, Queued: st.Queued,
		Calls: map[string]int64{"queued": st.CallsQueued, "connected": st.CallsConnected,
			"abandoned": st.CallsAbandoned, "ended": st.CallsEnded, "overflowed": st.Overflowed},
		AutoPaused: st.AutoPaused, Declined: st.Declined}
	for _, s := range allAgentStates {
		out.AgentsByState[s] = states[s]
		out.LoggedIn += states[s]
	}
	if err := s.supervisorDetail(ctx, &out); err != nil {
		return err
	}
	return c.JSON(out)
}
