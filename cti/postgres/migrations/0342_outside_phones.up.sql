-- Phones bound to people (issue 12): whether a user may connect an outside
-- number (a mobile, a home phone, a phone not managed by ctid such as the
-- fixed pjsip.conf phones) rather than only the phones assigned to them.
-- TRUE keeps what every existing user could do; an admin turns it off per
-- user (PUT /api/v1/admin/users/{id}/phone-policy).
ALTER TABLE users ADD COLUMN outside_phones BOOLEAN NOT NULL DEFAULT TRUE;
