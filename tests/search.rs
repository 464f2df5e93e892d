//! Search: every parameter, modifiers, prefixes, sorting, keyset paging, totals, includes and
//! the handling of unknown parameters.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected values")]

mod common;

use actix_web::test::TestRequest;
use common::{TestApp, immunization, patient};
use serde_json::{Value, json};

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["search"]["mode"] == "match")
                .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn families(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries.iter().map(|e| e["resource"]["name"][0]["family"].as_str().unwrap().to_owned()).collect()
        })
        .unwrap_or_default()
}

async fn search(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/fhir/{query}")).await;
    response.assert_status(200);
    let bundle = response.json();
    assert_eq!(bundle["type"], "searchset");
    bundle
}

struct People {
    smith: String,
    smithson: String,
    munoz: String,
    baby: String,
}

async fn people(app: &TestApp) -> People {
    let smith = app.create_patient(&patient("Smith", "John", "2015-05-20")).await;
    let smithson = app.create_patient(&patient("Smithson", "Anna", "2018-01-10")).await;
    let mut munoz = patient("Muñoz", "José", "2012-12-31");
    munoz["gender"] = json!("male");
    munoz["address"][0]["postalCode"] = json!("55455-1234");
    munoz["identifier"] = json!([{"system": "urn:oid:2.16.840.1.113883.4.3.27", "value": "MN-777"}]);
    munoz["active"] = json!(false);
    let munoz = app.create_patient(&munoz).await;
    let baby = app.create_patient(&patient("Baby", "Ola", "2024-07-01")).await;
    People { smith, smithson, munoz, baby }
}

#[actix_web::test]
async fn string_parameters_match_prefix_case_and_accent_insensitively() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    let mut found = ids(&search(&app, "Patient?family=smi").await);
    found.sort();
    let mut expected = vec![p.smith.clone(), p.smithson.clone()];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(ids(&search(&app, "Patient?family=MUNOZ").await), vec![p.munoz.clone()]);
    assert_eq!(ids(&search(&app, "Patient?given=jose").await), vec![p.munoz.clone()]);
    assert_eq!(ids(&search(&app, "Patient?name=ola").await), vec![p.baby.clone()]);
    assert_eq!(ids(&search(&app, "Patient?family:exact=Smith").await), vec![p.smith.clone()]);
    assert!(ids(&search(&app, "Patient?family:exact=smith").await).is_empty());
    assert_eq!(ids(&search(&app, "Patient?family:contains=THSO").await), vec![p.smithson.clone()]);
    assert_eq!(ids(&search(&app, "Patient?address-postalcode=55455").await), vec![p.munoz.clone()]);
}

#[actix_web::test]
async fn token_parameters_match_system_and_value() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    let by_system_and_value = search(&app, "Patient?identifier=urn:oid:2.16.840.1.113883.4.3.27%7CMN-777").await;
    assert_eq!(ids(&by_system_and_value), vec![p.munoz.clone()]);
    assert_eq!(ids(&search(&app, "Patient?identifier=MN-777").await), vec![p.munoz.clone()]);
    assert!(ids(&search(&app, "Patient?identifier=urn:other%7CMN-777").await).is_empty());
    assert_eq!(ids(&search(&app, "Patient?gender=male").await), vec![p.munoz.clone()]);
    assert_eq!(ids(&search(&app, "Patient?active=false").await), vec![p.munoz.clone()]);
    assert_eq!(ids(&search(&app, &format!("Patient?_id={},{}", p.smith, p.baby)).await).len(), 2);
}

/// Everyday searches (one value in all) reuse a prepared statement per connection; searches
/// with several values or criteria are prepared each time. Both must answer alike, and a reused
/// statement must take each request's own values.
#[actix_web::test]
async fn cached_and_uncached_search_statements_answer_alike() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    let sorted = |mut found: Vec<String>| {
        found.sort();
        found
    };
    // The same shape twice with different values: the second runs the cached statement.
    assert_eq!(ids(&search(&app, "Patient?family=smithson").await), vec![p.smithson.clone()]);
    assert_eq!(ids(&search(&app, "Patient?family=baby").await), vec![p.baby.clone()]);
    assert_eq!(ids(&search(&app, "Patient?gender=male").await), vec![p.munoz.clone()]);
    assert!(ids(&search(&app, "Patient?gender=other").await).is_empty());
    // Several values of one parameter (OR) and several parameters (AND).
    assert_eq!(
        sorted(ids(&search(&app, "Patient?family:exact=Smith,Baby").await)),
        sorted(vec![p.smith.clone(), p.baby.clone()])
    );
    assert_eq!(ids(&search(&app, "Patient?gender=male,other").await), vec![p.munoz.clone()]);
    assert_eq!(sorted(ids(&search(&app, "Patient?active=true,false&_count=10").await)).len(), 4);
    assert_eq!(ids(&search(&app, "Patient?family=smi&birthdate=2015").await), vec![p.smith.clone()]);
    assert!(ids(&search(&app, "Patient?family=smi&birthdate=2012").await).is_empty());
    assert_eq!(
        sorted(ids(&search(&app, &format!("Patient?_id={}&family=smi,bab", p.smith)).await)),
        vec![p.smith.clone()]
    );

    let first = app.create_immunization(&immunization(&p.smith, "08", "2015-05-21")).await;
    let second = app.create_immunization(&immunization(&p.baby, "08", "2024-07-02")).await;
    assert_eq!(ids(&search(&app, &format!("Immunization?patient={}", p.smith)).await), vec![first.clone()]);
    assert_eq!(ids(&search(&app, &format!("Immunization?patient={}", p.baby)).await), vec![second.clone()]);
    assert_eq!(
        sorted(ids(&search(&app, &format!("Immunization?patient={},{}", p.smith, p.baby)).await)),
        sorted(vec![first.clone(), second.clone()])
    );
    assert_eq!(
        ids(&search(&app, &format!("Immunization?patient={}&status=completed,not-done", p.baby)).await),
        vec![second]
    );
}

#[actix_web::test]
async fn date_prefixes_compare_ranges() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    assert_eq!(ids(&search(&app, "Patient?birthdate=2015-05-20").await), vec![p.smith.clone()]);
    assert_eq!(ids(&search(&app, "Patient?birthdate=2015").await), vec![p.smith.clone()]);
    assert_eq!(ids(&search(&app, "Patient?birthdate=eq2015-05").await), vec![p.smith.clone()]);
    let mut after = ids(&search(&app, "Patient?birthdate=gt2015-05-20").await);
    after.sort();
    let mut expected = vec![p.smithson.clone(), p.baby.clone()];
    expected.sort();
    assert_eq!(after, expected);
    assert_eq!(ids(&search(&app, "Patient?birthdate=lt2015-05-20").await), vec![p.munoz.clone()]);
    assert_eq!(
        ids(&search(&app, "Patient?birthdate=ge2018-01-10&birthdate=le2018-12-31").await),
        vec![p.smithson.clone()]
    );
    assert_eq!(search(&app, "Patient?birthdate=ne2015-05-20&_total=accurate").await["total"], 3);
    let bad = app.get("/fhir/Patient?birthdate=2015-13").await;
    bad.assert_status(400);
    assert_eq!(bad.first_issue(), ("value".to_owned(), Some("birthdate".to_owned())));
}

#[actix_web::test]
async fn last_updated_filters_by_write_time() {
    let app = TestApp::spawn().await;
    people(&app).await;
    assert_eq!(search(&app, "Patient?_lastUpdated=gt2000-01-01&_total=accurate").await["total"], 4);
    assert_eq!(search(&app, "Patient?_lastUpdated=lt2000-01-01&_total=accurate").await["total"], 0);
}

/// Every page of `query` (a search under `/fhir/`), first to last, through the `next` links;
/// each of them must carry a paging cursor.
async fn every_page(app: &TestApp, query: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut query = query.to_owned();
    loop {
        let bundle = search(app, &query).await;
        let next = bundle["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").map(|next| {
            let next_url = next["url"].as_str().unwrap();
            assert!(next_url.contains("_cursor="), "{next_url}");
            next_url.replace("http://izreg.test/fhir/", "")
        });
        pages.push(bundle);
        match next {
            Some(next) => query = next,
            None => return pages,
        }
    }
}

/// The matches of every page of `query`, in the order served.
async fn every_match(app: &TestApp, query: &str) -> Vec<String> {
    every_page(app, query).await.iter().flat_map(ids).collect()
}

#[actix_web::test]
async fn sorting_and_keyset_paging_visit_every_match_once() {
    let app = TestApp::spawn().await;
    for (i, family) in ["Delta", "alpha", "Charlie", "bravo", "Echo", "Alpha"].iter().enumerate() {
        app.create_patient(&patient(family, "Kid", &format!("201{i}-01-01"))).await;
    }
    let sorted = search(&app, "Patient?_sort=family").await;
    // Case-insensitive order; the tie between "alpha" and "Alpha" is broken by id (creation order).
    assert_eq!(families(&sorted), vec!["alpha", "Alpha", "bravo", "Charlie", "Delta", "Echo"]);
    let descending = search(&app, "Patient?_sort=-birthdate").await;
    let births: Vec<&str> =
        descending["entry"].as_array().unwrap().iter().map(|e| e["resource"]["birthDate"].as_str().unwrap()).collect();
    let mut expected = births.clone();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(births, expected);

    for sort in ["_sort=family", "_sort=-family", "_sort=birthdate", "_sort=-_lastUpdated", "_sort=_id"] {
        let pages = every_page(&app, &format!("Patient?{sort}&_count=2")).await;
        assert!(pages.iter().all(|bundle| bundle["entry"].as_array().map_or(0, Vec::len) <= 2));
        let seen: Vec<String> = pages.iter().flat_map(ids).collect();
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 6, "{sort}: every patient once");
        assert_eq!(seen.len(), 6, "{sort}: no repeats");
        assert_eq!(pages.len(), 3, "{sort}");
    }
}

// Paging an id-ordered name search where the first matching names do not fill a page: other
// filters drop them, one is deleted, and one patient has two names that both match (served once).
#[actix_web::test]
async fn id_ordered_name_searches_page_past_names_the_other_filters_drop() {
    let app = TestApp::spawn().await;
    let mut male = Vec::new();
    let mut female = Vec::new();
    for i in 0..7 {
        let mut person = patient("Window", &format!("Kid{i}"), "2016-03-01");
        person["gender"] = json!("male");
        male.push(app.create_patient(&person).await);
    }
    for i in 0..4 {
        female.push(app.create_patient(&patient("Window", &format!("Girl{i}"), "2016-03-01")).await);
    }
    let mut twice = patient("Window", "Twice", "2016-03-01");
    twice["name"] = json!([
        {"use": "official", "family": "Window", "given": ["Twice"]},
        {"use": "maiden", "family": "Windows", "given": ["Twice"]}
    ]);
    let twice = app.create_patient(&twice).await;
    female.push(twice.clone());
    app.delete(&format!("/fhir/Patient/{}", female[0])).await.assert_status(204);
    let live_female: Vec<String> = female[1..].to_vec();
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let reversed = |ids: Vec<String>| {
        let mut ids = sorted(ids);
        ids.reverse();
        ids
    };

    // The first seven names in id order belong to male patients.
    assert_eq!(every_match(&app, "Patient?family=window&gender=female&_count=2").await, sorted(live_female.clone()));
    assert_eq!(
        every_match(&app, "Patient?family=window&gender=female&_count=2&_sort=-_id").await,
        reversed(live_female.clone())
    );
    assert_eq!(every_match(&app, "Patient?family=window&gender=male&_count=2").await, sorted(male.clone()));
    assert_eq!(
        every_match(&app, "Patient?family=window&gender=male&_count=3&_sort=-_id").await,
        reversed(male.clone())
    );
    // The patient with two matching names comes once, on every page size.
    let everyone = sorted(male.iter().chain(&live_female).cloned().collect());
    for count in [1, 2, 5, 50] {
        assert_eq!(
            every_match(&app, &format!("Patient?family=window&_count={count}")).await,
            everyone,
            "_count={count}"
        );
        assert_eq!(every_match(&app, &format!("Patient?name=win&_count={count}")).await, everyone, "_count={count}");
    }
    assert_eq!(every_match(&app, "Patient?family:exact=Windows&_count=1").await, vec![twice]);
}

#[actix_web::test]
async fn totals_and_summary_count() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let none = search(&app, "Patient?family=smi").await;
    assert!(none.get("total").is_none());
    let accurate = search(&app, "Patient?family=smi&_total=accurate&_count=1").await;
    assert_eq!(accurate["total"], 2);
    assert_eq!(ids(&accurate).len(), 1);
    let count = search(&app, "Patient?_summary=count").await;
    assert_eq!(count["total"], 4);
    assert!(count.get("entry").is_none());
}

#[actix_web::test]
async fn count_is_capped_and_validated() {
    let app = TestApp::spawn().await;
    people(&app).await;
    app.get("/fhir/Patient?_count=5000").await.assert_status(200);
    let bad = app.get("/fhir/Patient?_count=many").await;
    bad.assert_status(400);
    assert_eq!(bad.first_issue().1.as_deref(), Some("_count"));
}

#[actix_web::test]
async fn unknown_parameters_are_400_unless_lenient() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let strict = app.get("/fhir/Patient?shoe-size=42").await;
    strict.assert_status(400);
    assert_eq!(strict.first_issue(), ("not-supported".to_owned(), Some("shoe-size".to_owned())));
    app.get("/fhir/Patient?family:fuzzy=smi").await.assert_status(400);
    let lenient = app
        .send(
            TestRequest::get()
                .uri("/fhir/Patient?shoe-size=42&family=smith")
                .insert_header(("prefer", "handling=lenient")),
        )
        .await;
    lenient.assert_status(200);
    let bundle = lenient.json();
    assert_eq!(ids(&bundle).len(), 2);
    let self_link = bundle["link"][0]["url"].as_str().unwrap();
    assert!(!self_link.contains("shoe-size"), "{self_link}");
}

#[actix_web::test]
async fn a_tampered_cursor_is_400() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let response = app.get("/fhir/Patient?_cursor=not-a-cursor").await;
    response.assert_status(400);
    assert_eq!(response.first_issue().1.as_deref(), Some("_cursor"));
}

#[actix_web::test]
async fn post_search_takes_form_parameters() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    let response = app
        .send(
            TestRequest::post()
                .uri("/fhir/Patient/_search")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("family=baby&birthdate=2024"),
        )
        .await;
    response.assert_status(200);
    assert_eq!(ids(&response.json()), vec![p.baby]);
}

#[actix_web::test]
async fn immunization_search_by_patient_date_code_status_and_lot() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    let mmr = app.create_immunization(&immunization(&p.smith, "03", "2016-05-21")).await;
    let mut dtap = immunization(&p.smith, "20", "2015-07-20");
    dtap["lotNumber"] = json!("AbC-99");
    let dtap = app.create_immunization(&dtap).await;
    let mut other = immunization(&p.baby, "08", "2024-07-02");
    other["status"] = json!("entered-in-error");
    let other = app.create_immunization(&other).await;

    let mut by_patient = ids(&search(&app, &format!("Immunization?patient=Patient/{}", p.smith)).await);
    by_patient.sort();
    let mut expected = vec![mmr.clone(), dtap.clone()];
    expected.sort();
    assert_eq!(by_patient, expected);
    assert_eq!(
        ids(&search(&app, &format!("Immunization?patient={}&_sort=date", p.smith)).await),
        vec![dtap.clone(), mmr.clone()]
    );
    assert_eq!(
        ids(&search(&app, &format!("Immunization?patient={}&_sort=-date", p.smith)).await),
        vec![mmr.clone(), dtap.clone()]
    );
    assert_eq!(ids(&search(&app, "Immunization?date=ge2016-01-01&date=lt2017").await), vec![mmr.clone()]);
    assert_eq!(
        ids(&search(&app, "Immunization?vaccine-code=http://hl7.org/fhir/sid/cvx%7C03").await),
        vec![mmr.clone()]
    );
    assert_eq!(ids(&search(&app, "Immunization?vaccine-code=20").await), vec![dtap.clone()]);
    assert_eq!(ids(&search(&app, "Immunization?status=entered-in-error").await), vec![other.clone()]);
    assert_eq!(ids(&search(&app, "Immunization?lot-number=abc").await), vec![dtap.clone()]);
    assert!(ids(&search(&app, &format!("Immunization?patient={}", p.munoz)).await).is_empty());
}

#[actix_web::test]
async fn include_and_revinclude_bring_related_resources() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    app.create_immunization(&immunization(&p.smith, "03", "2016-05-21")).await;
    app.create_immunization(&immunization(&p.smith, "20", "2015-07-20")).await;

    let included = search(&app, "Immunization?vaccine-code=03,20&_include=Immunization:patient").await;
    let entries = included["entry"].as_array().unwrap();
    assert_eq!(entries.iter().filter(|e| e["search"]["mode"] == "match").count(), 2);
    let includes: Vec<&Value> = entries.iter().filter(|e| e["search"]["mode"] == "include").collect();
    assert_eq!(includes.len(), 1, "the patient once, not once per immunization");
    assert_eq!(includes[0]["resource"]["id"], p.smith.as_str());

    let revincluded = search(&app, &format!("Patient?_id={}&_revinclude=Immunization:patient", p.smith)).await;
    let entries = revincluded["entry"].as_array().unwrap();
    assert_eq!(entries.iter().filter(|e| e["resource"]["resourceType"] == "Immunization").count(), 2);
    app.get("/fhir/Patient?_include=Immunization:patient").await.assert_status(400);
}

#[actix_web::test]
async fn deleted_resources_leave_search_results() {
    let app = TestApp::spawn().await;
    let p = people(&app).await;
    app.delete(&format!("/fhir/Patient/{}", p.baby)).await.assert_status(204);
    assert!(ids(&search(&app, "Patient?family=baby").await).is_empty());
    assert_eq!(search(&app, "Patient?_summary=count").await["total"], 3);
}

#[actix_web::test]
async fn oversized_searches_are_refused_not_failed() {
    let app = TestApp::spawn().await;
    let many_ids: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
    let response = app.get(&format!("/fhir/Patient?_id={}", many_ids.join(","))).await;
    response.assert_status(400);
    assert_eq!(response.first_issue(), ("too-costly".to_owned(), Some("_id".to_owned())));
    let many_params: Vec<String> = (0..31).map(|i| format!("family=f{i}")).collect();
    app.get(&format!("/fhir/Patient?{}", many_params.join("&"))).await.assert_status(400);
    let hundred: Vec<String> = (0..100).map(|i| format!("id{i}")).collect();
    app.get(&format!("/fhir/Patient?_id={}", hundred.join(","))).await.assert_status(200);
}
