package main

import (
	"context"
	"log/slog"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// seedDemo gives a brand-new throwaway database something to log in to:
// an admin, two agents on desk phones 1001/1002, and an inbound campaign.
// It runs only when ctid started its own cluster and no user exists, so it
// never touches a real deployment.
func seedDemo(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	var n int64
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM users`).Scan(&n).Error; err != nil || n > 0 {
		return err
	}
	admin := postgres.NewAdmin(db)
	users := []postgres.NewUser{
		{Username: "admin", Password: "admin1234", DisplayName: "Admin", Role: cti.RoleAdmin},
		{Username: "agent1", Password: "agent1234", DisplayName: "Agent One", Role: cti.RoleAgent, DefaultPhone: "1001", ManualCallWhenPaused: true, RecordingControl: true},
		{Username: "agent2", Password: "agent1234", DisplayName: "Agent Two", Role: cti.RoleAgent, DefaultPhone: "1002", ManualCallWhenPaused: true},
	}
	var ids []int64
	for _, u := range users {
		acc, err := admin.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		ids = append(ids, acc.ID)
	}
	_, err := admin.CreateCampaign(ctx, postgres.CampaignRecord{
		Name: "Demo inbound", Kind: "inbound", PlatformNumber: "+442071234567", DefaultRegion: "GB",
		WrapLimitSeconds: 60, DefaultWrapCode: "DONE", ExtendWrapSeconds: 30,
		DIDs:      []string{"+442071234567"},
		WrapCodes: []cti.WrapCode{{Code: "DONE", Label: "Resolved"}, {Code: "CALLBACK", Label: "Needs callback"}},
		AgentIDs:  ids[1:],
	})
	if err != nil {
		return err
	}
	log.Warn("demo data created in the throwaway database: users admin/admin1234, agent1/agent1234, agent2/agent1234; campaign on DID +442071234567")
	return nil
}
