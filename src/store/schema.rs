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

diesel::joinable!(immunization -> patient (patient_id));
diesel::joinable!(patient_name -> patient (patient_id));
diesel::joinable!(patient_identifier -> patient (patient_id));
diesel::joinable!(patient_postal_code -> patient (patient_id));
diesel::joinable!(immunization_vaccine_code -> immunization (immunization_id));

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
);
