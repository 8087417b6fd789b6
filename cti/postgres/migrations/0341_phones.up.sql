-- Phones as a managed resource (issue 12). ctid's phones table is the
-- source of truth; the PJSIP realtime rows Asterisk reads (0340) are derived
-- from it by triggers, so every way a phone or its user changes (the API, a
-- script, psql) keeps Asterisk's view right at once, with no reload:
--   * an enabled phone whose user (if any) is enabled has one ps_endpoints,
--     ps_auths and ps_aors row, all with id = extension;
--   * a disabled or deleted phone, or one whose user is disabled, has none:
--     Asterisk refuses its REGISTER and INVITE (no such endpoint), while a
--     call already up carries on (the channel holds its own copy);
--   * a new secret, a disable or a delete also removes the phone's
--     registrations (ps_contacts), so the old one stops receiving calls.
-- The secret itself is never stored: sip_md5_cred is md5(user:realm:secret),
-- what Asterisk's auth_type=md5 checks a digest against.

CREATE TABLE phones (
    id            BIGSERIAL PRIMARY KEY,
    extension     TEXT NOT NULL UNIQUE CHECK (extension ~ '^[0-9]{2,20}$'),
    kind          TEXT NOT NULL DEFAULT 'desk' CHECK (kind IN ('desk','browser')),
    user_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    label         TEXT NOT NULL DEFAULT '',
    codecs        TEXT NOT NULL DEFAULT 'ulaw,alaw' CHECK (codecs ~ '^[a-z0-9]+(,[a-z0-9]+)*$'),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    sip_realm     TEXT NOT NULL,
    sip_md5_cred  TEXT NOT NULL CHECK (sip_md5_cred ~ '^[0-9a-f]{32}$'),
    secret_set_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX phones_user ON phones(user_id);

-- ctid_phone_unpublish removes what Asterisk reads for an extension, and its
-- registrations.
CREATE FUNCTION ctid_phone_unpublish(ext TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ps_endpoints WHERE id = ext;
    DELETE FROM ps_auths WHERE id = ext;
    DELETE FROM ps_aors WHERE id = ext;
    DELETE FROM ps_contacts WHERE endpoint = ext OR id LIKE ext || ';@%' OR id LIKE ext || '^3B@%';
END $$;

-- ctid_phone_publish writes (or rewrites) the realtime rows of phone p, or
-- removes them when the phone or its user is disabled. Rows are updated in
-- place so that an edit (codecs, label) keeps a live registration.
CREATE FUNCTION ctid_phone_publish(p phones) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    live BOOLEAN;
    who  TEXT := '';
    cid  TEXT;
BEGIN
    SELECT NOT p.disabled AND COALESCE(NOT u.disabled, TRUE), COALESCE(NULLIF(u.display_name, ''), u.username, '')
      INTO live, who
      FROM (SELECT 1) one LEFT JOIN users u ON u.id = p.user_id;
    IF NOT live THEN
        PERFORM ctid_phone_unpublish(p.extension);
        RETURN;
    END IF;
    -- callerid is "Name" <ext>; quotes and angle brackets in a name would
    -- break the value, so they are dropped (display only).
    who := left(regexp_replace(COALESCE(NULLIF(p.label, ''), who, ''), '["<>\\]', '', 'g'), 20);
    cid := CASE WHEN who = '' THEN '<' || p.extension || '>' ELSE '"' || who || '" <' || p.extension || '>' END;

    INSERT INTO ps_aors (id, max_contacts, remove_existing, qualify_frequency, default_expiration, minimum_expiration, maximum_expiration)
    VALUES (p.extension, 1, 'yes', CASE WHEN p.kind = 'browser' THEN 0 ELSE 60 END, 300, 60, 3600)
    ON CONFLICT (id) DO UPDATE SET max_contacts = 1, remove_existing = 'yes',
        qualify_frequency = EXCLUDED.qualify_frequency, default_expiration = 300,
        minimum_expiration = 60, maximum_expiration = 3600;

    INSERT INTO ps_auths (id, auth_type, username, realm, md5_cred)
    VALUES (p.extension, 'md5', p.extension, p.sip_realm, p.sip_md5_cred)
    ON CONFLICT (id) DO UPDATE SET auth_type = 'md5', username = EXCLUDED.username,
        realm = EXCLUDED.realm, md5_cred = EXCLUDED.md5_cred, password = NULL;

    -- The same settings as the [agent-phone] template of pjsip.conf; a
    -- browser phone adds webrtc=yes (DTLS-SRTP, ICE, AVPF, rtcp-mux, a
    -- generated certificate) and is reached over the websocket transport.
    INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media, dtmf_mode,
        rtp_symmetric, force_rport, rewrite_contact, send_pai, trust_id_outbound, device_state_busy_at,
        allow_subscribe, language, callerid, webrtc, dtls_auto_generate_cert, media_encryption, use_avpf,
        ice_support, media_use_received_transport, rtcp_mux)
    VALUES (p.extension, NULL, p.extension, p.extension, 'agent-login', 'all', p.codecs, 'no', 'rfc4733',
        'yes', 'yes', 'yes', 'yes', 'yes', 1,
        'yes', 'en', cid,
        CASE WHEN p.kind = 'browser' THEN 'yes' ELSE 'no' END::ast_bool_values,
        CASE WHEN p.kind = 'browser' THEN 'yes' ELSE NULL END::ast_bool_values,
        CASE WHEN p.kind = 'browser' THEN 'dtls' ELSE NULL END::pjsip_media_encryption_values,
        CASE WHEN p.kind = 'browser' THEN 'yes' ELSE NULL END::ast_bool_values,
        CASE WHEN p.kind = 'browser' THEN 'yes' ELSE NULL END::ast_bool_values,
        CASE WHEN p.kind = 'browser' THEN 'yes' ELSE NULL END::ast_bool_values,
        CASE WHEN p.kind = 'browser' THEN 'yes' ELSE NULL END::ast_bool_values)
    ON CONFLICT (id) DO UPDATE SET transport = EXCLUDED.transport, aors = EXCLUDED.aors, auth = EXCLUDED.auth,
        context = EXCLUDED.context, disallow = EXCLUDED.disallow, allow = EXCLUDED.allow,
        direct_media = EXCLUDED.direct_media, dtmf_mode = EXCLUDED.dtmf_mode,
        rtp_symmetric = EXCLUDED.rtp_symmetric, force_rport = EXCLUDED.force_rport,
        rewrite_contact = EXCLUDED.rewrite_contact, send_pai = EXCLUDED.send_pai,
        trust_id_outbound = EXCLUDED.trust_id_outbound, device_state_busy_at = EXCLUDED.device_state_busy_at,
        allow_subscribe = EXCLUDED.allow_subscribe, language = EXCLUDED.language, callerid = EXCLUDED.callerid,
        webrtc = EXCLUDED.webrtc, dtls_auto_generate_cert = EXCLUDED.dtls_auto_generate_cert,
        media_encryption = EXCLUDED.media_encryption, use_avpf = EXCLUDED.use_avpf,
        ice_support = EXCLUDED.ice_support, media_use_received_transport = EXCLUDED.media_use_received_transport,
        rtcp_mux = EXCLUDED.rtcp_mux;
END $$;

CREATE FUNCTION ctid_phones_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ctid_phone_unpublish(OLD.extension);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.extension <> NEW.extension THEN
            PERFORM ctid_phone_unpublish(OLD.extension);
        ELSIF OLD.sip_md5_cred <> NEW.sip_md5_cred OR OLD.sip_realm <> NEW.sip_realm OR OLD.kind <> NEW.kind THEN
            -- a new secret (or a new kind of phone) drops the old registration
            DELETE FROM ps_contacts WHERE endpoint = NEW.extension OR id LIKE NEW.extension || ';@%' OR id LIKE NEW.extension || '^3B@%';
        END IF;
    END IF;
    PERFORM ctid_phone_publish(NEW);
    RETURN NEW;
END $$;

CREATE TRIGGER phones_sync AFTER INSERT OR UPDATE OR DELETE ON phones
    FOR EACH ROW EXECUTE FUNCTION ctid_phones_sync();

-- A user disabled (or enabled again, or renamed) republishes their phones.
CREATE FUNCTION ctid_phone_users_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p phones;
BEGIN
    FOR p IN SELECT * FROM phones WHERE user_id = NEW.id LOOP
        PERFORM ctid_phone_publish(p);
    END LOOP;
    RETURN NEW;
END $$;

CREATE TRIGGER users_phone_sync AFTER UPDATE OF disabled, display_name, username ON users
    FOR EACH ROW WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled
        OR OLD.display_name IS DISTINCT FROM NEW.display_name
        OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION ctid_phone_users_sync();
