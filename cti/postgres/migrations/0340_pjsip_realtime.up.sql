-- Asterisk's PJSIP realtime tables (issue 12), read and written by Asterisk
-- through res_config_pgsql + res_sorcery_realtime (asterisk-conf/realtime/).
-- Columns and types are those of Asterisk's own schema: generated from
-- contrib/ast-db-manage (alembic "config", upgrade head --sql, PostgreSQL)
-- of the asterisk repository and reduced to the four tables PJSIP phones
-- need, so any column Asterisk 22 reads is here. Asterisk ignores columns it
-- does not know; it fails on an INSERT naming one that is missing (ps_contacts
-- is written at every REGISTER), hence the full set.
--
-- ctid writes ps_endpoints/ps_auths/ps_aors only from the phones table
-- (0341: triggers); Asterisk writes ps_contacts (registrations). Other rows
-- an administrator adds by hand are left alone.

CREATE TYPE ast_bool_values AS ENUM ('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes');
CREATE TYPE pjsip_100rel_values_v2 AS ENUM ('no', 'required', 'peer_supported', 'yes');
CREATE TYPE pjsip_auth_type_values_v2 AS ENUM ('md5', 'userpass', 'google_oauth');
CREATE TYPE pjsip_cid_privacy_values AS ENUM ('allowed_not_screened', 'allowed_passed_screened', 'allowed_failed_screened', 'allowed', 'prohib_not_screened', 'prohib_passed_screened', 'prohib_failed_screened', 'prohib', 'unavailable');
CREATE TYPE pjsip_connected_line_method_values AS ENUM ('invite', 'reinvite', 'update');
CREATE TYPE pjsip_direct_media_glare_mitigation_values AS ENUM ('none', 'outgoing', 'incoming');
CREATE TYPE pjsip_dtls_setup_values AS ENUM ('active', 'passive', 'actpass');
CREATE TYPE pjsip_dtmf_mode_values_v3 AS ENUM ('rfc4733', 'inband', 'info', 'auto', 'auto_info');
CREATE TYPE pjsip_incoming_call_offer_pref_values AS ENUM ('local', 'local_first', 'remote', 'remote_first');
CREATE TYPE pjsip_media_encryption_values AS ENUM ('no', 'sdes', 'dtls');
CREATE TYPE pjsip_outgoing_call_offer_pref_values AS ENUM ('local', 'local_merge', 'local_first', 'remote', 'remote_merge', 'remote_first');
CREATE TYPE pjsip_redirect_method_values AS ENUM ('user', 'uri_core', 'uri_pjsip');
CREATE TYPE pjsip_t38udptl_ec_values AS ENUM ('none', 'fec', 'redundancy');
CREATE TYPE pjsip_timer_values AS ENUM ('forced', 'no', 'required', 'yes');
CREATE TYPE security_negotiation_values AS ENUM ('no', 'mediasec');
CREATE TYPE sha_hash_values AS ENUM ('SHA-1', 'SHA-256');


CREATE TABLE ps_aors (
    id character varying(255) NOT NULL,
    contact character varying(255),
    default_expiration integer,
    mailboxes character varying(80),
    max_contacts integer,
    minimum_expiration integer,
    remove_existing ast_bool_values,
    qualify_frequency integer,
    authenticate_qualify ast_bool_values,
    maximum_expiration integer,
    outbound_proxy character varying(255),
    support_path ast_bool_values,
    qualify_timeout double precision,
    voicemail_extension character varying(40),
    remove_unavailable ast_bool_values,
    qualify_2xx_only ast_bool_values
);

CREATE TABLE ps_auths (
    id character varying(255) NOT NULL,
    auth_type pjsip_auth_type_values_v2,
    nonce_lifetime integer,
    md5_cred character varying(40),
    password character varying(80),
    realm character varying(255),
    username character varying(40),
    refresh_token character varying(255),
    oauth_clientid character varying(255),
    oauth_secret character varying(255),
    password_digest character varying(1024),
    supported_algorithms_uas character varying(1024),
    supported_algorithms_uac character varying(1024)
);

CREATE TABLE ps_contacts (
    id character varying(255) NOT NULL,
    uri character varying(511),
    expiration_time bigint,
    qualify_frequency integer,
    outbound_proxy character varying(255),
    path text,
    user_agent character varying(255),
    qualify_timeout double precision,
    reg_server character varying(255),
    authenticate_qualify ast_bool_values,
    via_addr character varying(40),
    via_port integer,
    call_id character varying(255),
    endpoint character varying(255),
    prune_on_boot ast_bool_values,
    qualify_2xx_only ast_bool_values
);

CREATE TABLE ps_endpoints (
    id character varying(255) NOT NULL,
    transport character varying(40),
    aors character varying(2048),
    auth character varying(255),
    context character varying(40),
    disallow character varying(200),
    allow character varying(200),
    direct_media ast_bool_values,
    connected_line_method pjsip_connected_line_method_values,
    direct_media_method pjsip_connected_line_method_values,
    direct_media_glare_mitigation pjsip_direct_media_glare_mitigation_values,
    disable_direct_media_on_nat ast_bool_values,
    dtmf_mode pjsip_dtmf_mode_values_v3,
    external_media_address character varying(40),
    force_rport ast_bool_values,
    ice_support ast_bool_values,
    identify_by character varying(80),
    mailboxes character varying(40),
    moh_suggest character varying(40),
    outbound_auth character varying(255),
    outbound_proxy character varying(255),
    rewrite_contact ast_bool_values,
    rtp_ipv6 ast_bool_values,
    rtp_symmetric ast_bool_values,
    send_diversion ast_bool_values,
    send_pai ast_bool_values,
    send_rpid ast_bool_values,
    timers_min_se integer,
    timers pjsip_timer_values,
    timers_sess_expires integer,
    callerid character varying(40),
    callerid_privacy pjsip_cid_privacy_values,
    callerid_tag character varying(40),
    "100rel" pjsip_100rel_values_v2,
    aggregate_mwi ast_bool_values,
    trust_id_inbound ast_bool_values,
    trust_id_outbound ast_bool_values,
    use_ptime ast_bool_values,
    use_avpf ast_bool_values,
    media_encryption pjsip_media_encryption_values,
    inband_progress ast_bool_values,
    call_group character varying(40),
    pickup_group character varying(40),
    named_call_group character varying(40),
    named_pickup_group character varying(40),
    device_state_busy_at integer,
    fax_detect ast_bool_values,
    t38_udptl ast_bool_values,
    t38_udptl_ec pjsip_t38udptl_ec_values,
    t38_udptl_maxdatagram integer,
    t38_udptl_nat ast_bool_values,
    t38_udptl_ipv6 ast_bool_values,
    tone_zone character varying(40),
    language character varying(40),
    one_touch_recording ast_bool_values,
    record_on_feature character varying(40),
    record_off_feature character varying(40),
    rtp_engine character varying(40),
    allow_transfer ast_bool_values,
    allow_subscribe ast_bool_values,
    sdp_owner character varying(40),
    sdp_session character varying(40),
    tos_audio character varying(10),
    tos_video character varying(10),
    sub_min_expiry integer,
    from_domain character varying(40),
    from_user character varying(40),
    mwi_from_user character varying(40),
    dtls_verify character varying(40),
    dtls_rekey character varying(40),
    dtls_cert_file character varying(200),
    dtls_private_key character varying(200),
    dtls_cipher character varying(200),
    dtls_ca_file character varying(200),
    dtls_ca_path character varying(200),
    dtls_setup pjsip_dtls_setup_values,
    srtp_tag_32 ast_bool_values,
    media_address character varying(40),
    redirect_method pjsip_redirect_method_values,
    set_var text,
    cos_audio integer,
    cos_video integer,
    message_context character varying(40),
    force_avp ast_bool_values,
    media_use_received_transport ast_bool_values,
    accountcode character varying(80),
    user_eq_phone ast_bool_values,
    moh_passthrough ast_bool_values,
    media_encryption_optimistic ast_bool_values,
    rpid_immediate ast_bool_values,
    g726_non_standard ast_bool_values,
    rtp_keepalive integer,
    rtp_timeout integer,
    rtp_timeout_hold integer,
    bind_rtp_to_media_address ast_bool_values,
    voicemail_extension character varying(40),
    mwi_subscribe_replaces_unsolicited ast_bool_values,
    deny character varying(95),
    permit character varying(95),
    acl character varying(40),
    contact_deny character varying(95),
    contact_permit character varying(95),
    contact_acl character varying(40),
    subscribe_context character varying(40),
    fax_detect_timeout integer,
    contact_user character varying(80),
    preferred_codec_only ast_bool_values,
    asymmetric_rtp_codec ast_bool_values,
    rtcp_mux ast_bool_values,
    allow_overlap ast_bool_values,
    refer_blind_progress ast_bool_values,
    notify_early_inuse_ringing ast_bool_values,
    max_audio_streams integer,
    max_video_streams integer,
    webrtc ast_bool_values,
    dtls_fingerprint sha_hash_values,
    incoming_mwi_mailbox character varying(40),
    bundle ast_bool_values,
    dtls_auto_generate_cert ast_bool_values,
    follow_early_media_fork ast_bool_values,
    accept_multiple_sdp_answers ast_bool_values,
    suppress_q850_reason_headers ast_bool_values,
    trust_connected_line ast_bool_values,
    send_connected_line ast_bool_values,
    ignore_183_without_sdp ast_bool_values,
    codec_prefs_incoming_offer character varying(128),
    codec_prefs_outgoing_offer character varying(128),
    codec_prefs_incoming_answer character varying(128),
    codec_prefs_outgoing_answer character varying(128),
    stir_shaken ast_bool_values,
    send_history_info ast_bool_values,
    allow_unauthenticated_options ast_bool_values,
    t38_bind_udptl_to_media_address ast_bool_values,
    geoloc_incoming_call_profile character varying(80),
    geoloc_outgoing_call_profile character varying(80),
    incoming_call_offer_pref pjsip_incoming_call_offer_pref_values,
    outgoing_call_offer_pref pjsip_outgoing_call_offer_pref_values,
    stir_shaken_profile character varying(80),
    security_negotiation security_negotiation_values,
    security_mechanisms character varying(512),
    send_aoc ast_bool_values,
    overlap_context character varying(80),
    tenantid character varying(80),
    suppress_moh_on_sendonly ast_bool_values,
    follow_redirect_methods character varying(95),
    rtp_port_start integer,
    rtp_port_end integer
);

ALTER TABLE ONLY ps_aors
    ADD CONSTRAINT ps_aors_id_key UNIQUE (id);

ALTER TABLE ONLY ps_auths
    ADD CONSTRAINT ps_auths_id_key UNIQUE (id);

ALTER TABLE ONLY ps_contacts
    ADD CONSTRAINT ps_contacts_id_key UNIQUE (id);

ALTER TABLE ONLY ps_contacts
    ADD CONSTRAINT ps_contacts_uq UNIQUE (id, reg_server);

ALTER TABLE ONLY ps_endpoints
    ADD CONSTRAINT ps_endpoints_id_key UNIQUE (id);

CREATE INDEX ps_aors_id ON ps_aors USING btree (id);

CREATE INDEX ps_aors_qualifyfreq_contact ON ps_aors USING btree (qualify_frequency, contact);

CREATE INDEX ps_auths_id ON ps_auths USING btree (id);

CREATE INDEX ps_contacts_id ON ps_contacts USING btree (id);

CREATE INDEX ps_contacts_qualifyfreq_exp ON ps_contacts USING btree (qualify_frequency, expiration_time);

CREATE INDEX ps_endpoints_id ON ps_endpoints USING btree (id);

