//! Immunization routes.

super::resource::resource_endpoints! {
    kind: crate::service::kind::ImmunizationKind,
    tag: "Immunization",
    schema: schema::Immunization,
    search_params: schema::ImmunizationSearchParams,
    type_path: "/Immunization",
    search_path: "/Immunization/_search",
    type_history_path: "/Immunization/_history",
    instance_path: "/Immunization/{id}",
    instance_history_path: "/Immunization/{id}/_history",
    version_path: "/Immunization/{id}/_history/{version_id}",
    operation_ids: ["createImmunization", "searchImmunization", "searchImmunizationPost", "historyImmunizationType",
                    "readImmunization", "vreadImmunization", "updateImmunization", "deleteImmunization",
                    "historyImmunizationInstance"],
}
