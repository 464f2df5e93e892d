//! Patient routes.

super::resource::resource_endpoints! {
    kind: crate::service::kind::PatientKind,
    tag: "Patient",
    schema: schema::Patient,
    search_params: schema::PatientSearchParams,
    type_path: "/Patient",
    search_path: "/Patient/_search",
    type_history_path: "/Patient/_history",
    instance_path: "/Patient/{id}",
    instance_history_path: "/Patient/{id}/_history",
    version_path: "/Patient/{id}/_history/{version_id}",
    operation_ids: ["createPatient", "searchPatient", "searchPatientPost", "historyPatientType", "readPatient",
                    "vreadPatient", "updatePatient", "deletePatient", "historyPatientInstance"],
}
