//! Diesel table definitions. Hand-written to match `migrations/`; a test checks the two agree.

diesel::table! {
    /// Current version of every Patient (deleted ones stay, flagged, so a read can answer 410).
    patient (id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> BigInt,
        deleted -> Bool,
        resource_json -> Text,
        owner_organization_id -> Nullable<Text>,
        owner_facility_id -> Nullable<Text>,
        family_sort -> Text,
        birth_start -> Nullable<BigInt>,
        birth_end -> Nullable<BigInt>,
        birth_sort -> BigInt,
        gender -> Nullable<Text>,
        active -> Bool,
        /// NULL: every organization; '': nobody (opted out); 'o:<id>' / 'f:<id>': locked.
        visible_to -> Nullable<Text>,
    }
}

diesel::table! {
    /// Every version of every Patient.
    patient_history (id, version_id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> BigInt,
        method -> Text,
        resource_json -> Nullable<Text>,
    }
}

diesel::table! {
    /// Name parts of the current Patient versions (search index).
    patient_name (patient_id, part, value_exact) {
        patient_id -> Text,
        part -> Text,
        value_exact -> Text,
        value_norm -> Text,
    }
}

diesel::table! {
    /// Identifiers of the current Patient versions (search index).
    patient_identifier (patient_id, system, value) {
        patient_id -> Text,
        system -> Text,
        value -> Text,
    }
}

diesel::table! {
    /// Postal codes of the current Patient versions (search index).
    patient_postal_code (patient_id, postal_code_norm) {
        patient_id -> Text,
        postal_code_norm -> Text,
    }
}

diesel::table! {
    /// Current version of every Immunization.
    immunization (id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> BigInt,
        deleted -> Bool,
        resource_json -> Text,
        owner_organization_id -> Nullable<Text>,
        owner_facility_id -> Nullable<Text>,
        patient_id -> Text,
        occurrence_start -> Nullable<BigInt>,
        occurrence_end -> Nullable<BigInt>,
        occurrence_sort -> BigInt,
        status -> Text,
        lot_number_norm -> Nullable<Text>,
        /// The patient's `visible_to`, kept on each immunization so searches filter in one query.
        visible_to -> Nullable<Text>,
    }
}

diesel::table! {
    /// Every version of every Immunization.
    immunization_history (id, version_id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> BigInt,
        method -> Text,
        resource_json -> Nullable<Text>,
    }
}

diesel::table! {
    /// Codings of Immunization.vaccineCode (search index).
    immunization_vaccine_code (immunization_id, system, code) {
        immunization_id -> Text,
        system -> Text,
        code -> Text,
    }
}

diesel::table! {
    /// CDC CVX vaccine codes.
    cvx_code (code) {
        code -> Text,
        label -> Text,
        status -> Text,
        vaccine_group -> Nullable<Text>,
    }
}

diesel::table! {
    /// MVX manufacturer codes.
    mvx_code (code) {
        code -> Text,
        label -> Text,
        status -> Text,
    }
}

diesel::table! {
    /// Organizations (clinics, pharmacies, schools, child care, health plans, public health).
    organization (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        operator -> Bool,
        active -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Facilities (physical sites) of organizations.
    facility (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        site_code -> Nullable<Text>,
        address_line -> Nullable<Text>,
        city -> Nullable<Text>,
        state -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        active -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Data use agreements.
    agreement (id) {
        id -> Text,
        organization_id -> Text,
        status -> Text,
        signed_on -> Nullable<Text>,
        starts_on -> Nullable<Text>,
        ends_on -> Nullable<Text>,
        contacts_json -> Text,
        representative_email -> Text,
        renews_agreement_id -> Nullable<Text>,
        termination_notice_on -> Nullable<Text>,
        terminated_on -> Nullable<Text>,
        termination_requested_by -> Nullable<Text>,
        termination_reason -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// The outbox of agreement expiry reminders.
    agreement_notice (id) {
        id -> Text,
        agreement_id -> Text,
        days_before -> Integer,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        queued_at -> BigInt,
        sent_at -> Nullable<BigInt>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    /// People who log in.
    app_user (id) {
        id -> Text,
        organization_id -> Text,
        facility_id -> Nullable<Text>,
        username -> Text,
        username_norm -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        role -> Text,
        password_hash -> Text,
        password_changed_at -> BigInt,
        failed_logins -> Integer,
        locked_until -> Nullable<BigInt>,
        active -> Bool,
        tokens_valid_after -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Users' security questions and hashed answers.
    security_answer (user_id, position) {
        user_id -> Text,
        position -> Integer,
        question -> Text,
        answer_hash -> Text,
    }
}

diesel::table! {
    /// Registered systems (SMART Backend Services clients).
    client (id) {
        id -> Text,
        organization_id -> Text,
        facility_id -> Nullable<Text>,
        name -> Text,
        role -> Text,
        allowed_scopes -> Text,
        jwks_json -> Text,
        active -> Bool,
        tokens_valid_after -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Client assertion ids already used.
    client_assertion (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    /// The server's token signing keys.
    signing_key (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key_pkcs8 -> Text,
        public_jwk_json -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Tokens revoked before their expiry (logout).
    revoked_token (jti) {
        jti -> Text,
        expires_at -> BigInt,
        revoked_at -> BigInt,
    }
}

diesel::table! {
    /// The hash-chained audit trail.
    audit_event (seq) {
        seq -> BigInt,
        recorded_at -> BigInt,
        agent_kind -> Text,
        agent_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        facility_id -> Nullable<Text>,
        token_id -> Nullable<Text>,
        action -> Text,
        resource_type -> Nullable<Text>,
        resource_ids -> Text,
        patient_ids -> Text,
        query -> Nullable<Text>,
        outcome -> Text,
        status -> Integer,
        detail -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(immunization -> patient (patient_id));
diesel::joinable!(patient_name -> patient (patient_id));
diesel::joinable!(patient_identifier -> patient (patient_id));
diesel::joinable!(patient_postal_code -> patient (patient_id));
diesel::joinable!(immunization_vaccine_code -> immunization (immunization_id));
diesel::joinable!(facility -> organization (organization_id));
diesel::joinable!(agreement -> organization (organization_id));
diesel::joinable!(app_user -> organization (organization_id));
diesel::joinable!(client -> organization (organization_id));
diesel::joinable!(agreement_notice -> agreement (agreement_id));
diesel::joinable!(security_answer -> app_user (user_id));

diesel::table! {
    /// The current privacy choices of a person (absent: none made).
    patient_privacy (patient_id) {
        patient_id -> Text,
        version -> Integer,
        opted_out -> Bool,
        lock_organization_id -> Nullable<Text>,
        lock_facility_id -> Nullable<Text>,
        reminders_declined -> Bool,
        changed_at -> BigInt,
        changed_by_organization_id -> Text,
        changed_by_user_id -> Nullable<Text>,
        requested_by -> Text,
        identity_verification -> Text,
    }
}

diesel::table! {
    /// Every version of a person's privacy choices.
    patient_privacy_history (patient_id, version) {
        patient_id -> Text,
        version -> Integer,
        opted_out -> Bool,
        lock_organization_id -> Nullable<Text>,
        lock_facility_id -> Nullable<Text>,
        reminders_declined -> Bool,
        changed_at -> BigInt,
        changed_by_organization_id -> Text,
        changed_by_user_id -> Nullable<Text>,
        requested_by -> Text,
        identity_verification -> Text,
    }
}

diesel::table! {
    /// An organization marking a person as no longer its patient (or again its patient).
    patient_provider_status (patient_id, organization_id) {
        patient_id -> Text,
        organization_id -> Text,
        active -> Bool,
        reason -> Nullable<Text>,
        changed_at -> BigInt,
        changed_by -> Text,
    }
}

diesel::table! {
    /// Reminder / recall runs: criteria and progress.
    reminder_run (id) {
        id -> Text,
        organization_id -> Text,
        facility_id -> Nullable<Text>,
        requested_by -> Text,
        criteria_json -> Text,
        status -> Text,
        patients_total -> Nullable<BigInt>,
        patients_processed -> BigInt,
        reminders -> BigInt,
        recalls -> BigInt,
        exclusions_json -> Text,
        error -> Nullable<Text>,
        created_at -> BigInt,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// The notices of a run.
    reminder_notice (run_id, number) {
        run_id -> Text,
        number -> BigInt,
        patient_id -> Text,
        kind -> Text,
        notice_json -> Text,
        attempts -> Integer,
        last_sent_on -> Nullable<Text>,
        last_method -> Nullable<Text>,
    }
}

diesel::table! {
    /// Notices sent, per vaccine group (outlives the run's results).
    reminder_contact (run_id, number, vaccine_group) {
        run_id -> Text,
        number -> BigInt,
        vaccine_group -> Text,
        patient_id -> Text,
        organization_id -> Text,
        sent_on -> Text,
        method -> Text,
    }
}

diesel::table! {
    /// Secondary indexes a bulk load dropped and has not rebuilt yet (SQLite only).
    deferred_index (name) {
        name -> Text,
        create_sql -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    patient,
    patient_history,
    patient_name,
    patient_identifier,
    patient_postal_code,
    immunization,
    immunization_history,
    immunization_vaccine_code,
    cvx_code,
    mvx_code,
    organization,
    facility,
    agreement,
    agreement_notice,
    app_user,
    security_answer,
    client,
    client_assertion,
    signing_key,
    revoked_token,
    audit_event,
    patient_privacy,
    patient_privacy_history,
    patient_provider_status,
    reminder_run,
    reminder_notice,
    reminder_contact,
    deferred_index,
);
