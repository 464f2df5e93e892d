//! Parses CDC's CDSi supporting data (XML) into `data.rs` types. Empty elements mean "not
//! specified"; text that is present but unreadable (a malformed duration or date) is an error, so
//! a bad data release is caught at start-up rather than silently changing forecasts.

use std::collections::HashMap;

use roxmltree::{Document, Node};
use time::Date;

use super::calendar::{Duration, parse_data_date};
use super::data::*;

/// Why the supporting data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SupportingDataError {
    #[error("supporting data file {file}: not well-formed XML: {source}")]
    Xml { file: String, source: roxmltree::Error },
    #[error("supporting data file {file}: <{element}> holds {value:?}, which is not a {expected}")]
    Value { file: String, element: String, value: String, expected: &'static str },
    #[error("supporting data file {file}: {message}")]
    Structure { file: String, message: String },
}

/// The supporting data release compiled into the binary (CDC CDSi 4.64), so a forecast never
/// depends on files found at run time.
pub const EMBEDDED_VERSION: &str = "4.64";

macro_rules! embedded_antigens {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../data/cdsi/supporting-data-4.64/AntigenSupportingData- ", $name, "-508.xml")))),*]
    };
}

/// `(antigen file label, XML)` for every antigen of the embedded release.
pub const EMBEDDED_ANTIGEN_FILES: &[(&str, &str)] = embedded_antigens!(
    "COVID-19",
    "Chikungunya",
    "Cholera",
    "Dengue",
    "Diphtheria",
    "Ebola",
    "HPV",
    "HepA",
    "HepB",
    "Hib",
    "Influenza",
    "JE",
    "Measles",
    "Meningococcal B",
    "Meningococcal",
    "Mumps",
    "Orthopoxvirus",
    "Pertussis",
    "Pneumococcal",
    "Polio",
    "RSV",
    "Rabies",
    "Rotavirus",
    "Rubella",
    "TBE",
    "Tetanus",
    "Typhoid",
    "Varicella",
    "YF",
    "Zoster",
);

/// The schedule file of the embedded release.
pub const EMBEDDED_SCHEDULE: &str = include_str!("../../data/cdsi/supporting-data-4.64/ScheduleSupportingData.xml");

/// Parses a release: the antigen files (label, XML) and the schedule file.
pub fn parse_supporting_data(
    antigen_files: &[(&str, &str)],
    schedule: &str,
) -> Result<SupportingData, SupportingDataError> {
    let mut antigens = Vec::with_capacity(antigen_files.len());
    for (label, xml) in antigen_files {
        let reader = Reader { file: label };
        let document =
            Document::parse(xml).map_err(|source| SupportingDataError::Xml { file: label.to_string(), source })?;
        antigens.push(reader.antigen(document.root_element())?);
    }
    let reader = Reader { file: "ScheduleSupportingData" };
    let document = Document::parse(schedule)
        .map_err(|source| SupportingDataError::Xml { file: reader.file.to_string(), source })?;
    let root = document.root_element();
    let antigen_index = |name: &str| antigens.iter().position(|antigen: &Antigen| antigen.name == name);

    let mut cvx_antigens: HashMap<String, Vec<CvxAssociation>> = HashMap::new();
    for map in descendants(root, "cvxMap") {
        let cvx = reader.text(map, "cvx").unwrap_or_default().to_string();
        for association in children(map, "association") {
            let name = reader.text(association, "antigen").unwrap_or_default();
            // The map also names antigens with no antigen file (no schedule); such doses count for nothing.
            let Some(antigen) = antigen_index(name) else { continue };
            cvx_antigens.entry(cvx.clone()).or_default().push(CvxAssociation {
                antigen,
                begin_age: reader.duration(association, "associationBeginAge")?,
                end_age: reader.duration(association, "associationEndAge")?,
            });
        }
    }

    let mut group_antigens: HashMap<String, Vec<AntigenIndex>> = HashMap::new();
    for map in descendants(root, "vaccineGroupMap") {
        let name = reader.text(map, "name").unwrap_or_default().to_string();
        let members =
            children(map, "antigen").filter_map(|node| node.text().and_then(|text| antigen_index(text.trim())));
        group_antigens.entry(name).or_default().extend(members);
    }
    let mut vaccine_groups = Vec::new();
    for group in descendants(root, "vaccineGroup") {
        let name = reader.text(group, "name").unwrap_or_default().to_string();
        let antigens = group_antigens.remove(&name).unwrap_or_default();
        if antigens.is_empty() {
            return Err(reader.structure(format!("vaccine group {name:?} has no antigen with supporting data")));
        }
        let administer_full_group =
            reader.text(group, "administerFullVaccineGroup").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
        vaccine_groups.push(VaccineGroup { name, administer_full_group, antigens });
    }

    let mut live_virus_conflicts = Vec::new();
    for conflict in descendants(root, "liveVirusConflict") {
        let cvx_of = |side: &str| {
            child(conflict, side).and_then(|node| reader.text(node, "cvx")).unwrap_or_default().to_string()
        };
        let required = |element: &str| {
            reader
                .duration(conflict, element)?
                .ok_or_else(|| reader.structure(format!("live virus conflict without <{element}>")))
        };
        live_virus_conflicts.push(LiveVirusConflict {
            previous_cvx: cvx_of("previous"),
            current_cvx: cvx_of("current"),
            begin: required("conflictBeginInterval")?,
            min_end: required("minConflictEndInterval")?,
            end: required("conflictEndInterval")?,
        });
    }

    let observations = descendants(root, "observation")
        .filter_map(|node| {
            let code = reader.text(node, "observationCode")?.to_string();
            Some((code, reader.text(node, "observationTitle").unwrap_or_default().to_string()))
        })
        .collect();

    let mut live_virus_conflicts_by_current: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, conflict) in live_virus_conflicts.iter().enumerate() {
        live_virus_conflicts_by_current.entry(conflict.current_cvx.clone()).or_default().push(index);
    }

    Ok(SupportingData {
        antigens,
        cvx_antigens,
        vaccine_groups,
        live_virus_conflicts,
        live_virus_conflicts_by_current,
        observations,
    })
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|child| child.has_tag_name(name))
}

fn children<'a, 'input: 'a>(node: Node<'a, 'input>, name: &'a str) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children().filter(move |child| child.has_tag_name(name))
}

fn descendants<'a, 'input: 'a>(node: Node<'a, 'input>, name: &'a str) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.descendants().filter(move |child| child.has_tag_name(name))
}

/// Reads elements of one file, naming the file in errors.
struct Reader<'f> {
    file: &'f str,
}

impl Reader<'_> {
    fn structure(&self, message: String) -> SupportingDataError {
        SupportingDataError::Structure { file: self.file.to_string(), message }
    }

    fn value_error(&self, element: &str, value: &str, expected: &'static str) -> SupportingDataError {
        SupportingDataError::Value {
            file: self.file.to_string(),
            element: element.to_string(),
            value: value.to_string(),
            expected,
        }
    }

    /// The trimmed text of a child element; `None` when absent or empty.
    fn text<'a>(&self, node: Node<'a, '_>, name: &str) -> Option<&'a str> {
        child(node, name).and_then(|node| node.text()).map(str::trim).filter(|text| !text.is_empty())
    }

    fn duration(&self, node: Node, name: &str) -> Result<Option<Duration>, SupportingDataError> {
        match self.text(node, name) {
            None => Ok(None),
            Some("n/a") => Ok(None),
            Some(text) => Duration::parse(text).map(Some).ok_or_else(|| self.value_error(name, text, "duration")),
        }
    }

    fn date(&self, node: Node, name: &str) -> Result<Option<Date>, SupportingDataError> {
        match self.text(node, name) {
            None => Ok(None),
            Some(text) => parse_data_date(text).map(Some).ok_or_else(|| self.value_error(name, text, "date")),
        }
    }

    fn flag(&self, node: Node, name: &str) -> bool {
        self.text(node, name).is_some_and(|text| text.eq_ignore_ascii_case("yes") || text.eq_ignore_ascii_case("y"))
    }

    /// A `;`-separated list (CVX codes, series groups).
    fn list(&self, node: Node, name: &str) -> Vec<String> {
        self.text(node, name)
            .map(|text| {
                text.split([';', ',']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_string).collect()
            })
            .unwrap_or_default()
    }

    fn antigen(&self, root: Node) -> Result<Antigen, SupportingDataError> {
        let series = children(root, "series").map(|node| self.series(node)).collect::<Result<Vec<_>, _>>()?;
        let name = series
            .first()
            .map(|_| ())
            .and_then(|()| children(root, "series").next())
            .and_then(|node| self.text(node, "targetDisease"))
            .ok_or_else(|| self.structure("no <series> with a <targetDisease>".to_string()))?
            .to_string();
        let immunity = child(root, "immunity");
        let immunity_codes = immunity
            .map(|node| {
                children(node, "clinicalHistory")
                    .filter_map(|history| self.text(history, "guidelineCode"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let birth = immunity.and_then(|node| child(node, "dateOfBirth"));
        let immunity_birth_date = match birth {
            Some(node) => self.date(node, "immunityBirthDate")?,
            None => None,
        };
        let immunity_exclusions = birth
            .map(|node| {
                children(node, "exclusion").filter_map(|e| self.text(e, "exclusionCode")).map(str::to_string).collect()
            })
            .unwrap_or_default();

        let mut group_contraindications = Vec::new();
        let mut vaccine_contraindications = Vec::new();
        if let Some(contraindications) = child(root, "contraindications") {
            for node in
                child(contraindications, "vaccineGroup").into_iter().flat_map(|g| children(g, "contraindication"))
            {
                group_contraindications.push(Contraindication {
                    observation_code: self.text(node, "observationCode").unwrap_or_default().to_string(),
                    begin_age: self.duration(node, "beginAge")?,
                    end_age: self.duration(node, "endAge")?,
                });
            }
            for node in child(contraindications, "vaccine").into_iter().flat_map(|g| children(g, "contraindication")) {
                let vaccines = children(node, "contraindicatedVaccine")
                    .map(|vaccine| self.aged_vaccine(vaccine))
                    .collect::<Result<Vec<_>, _>>()?;
                vaccine_contraindications.push(VaccineContraindication {
                    observation_code: self.text(node, "observationCode").unwrap_or_default().to_string(),
                    vaccines,
                });
            }
        }
        Ok(Antigen {
            name,
            immunity_codes,
            immunity_birth_date,
            immunity_exclusions,
            group_contraindications,
            vaccine_contraindications,
            series,
        })
    }

    fn aged_vaccine(&self, node: Node) -> Result<AgedVaccine, SupportingDataError> {
        Ok(AgedVaccine {
            cvx: self.text(node, "cvx").unwrap_or_default().to_string(),
            begin_age: self.duration(node, "beginAge")?,
            end_age: self.duration(node, "endAge")?,
        })
    }

    fn series(&self, node: Node) -> Result<Series, SupportingDataError> {
        let select =
            child(node, "selectSeries").ok_or_else(|| self.structure("a <series> without <selectSeries>".into()))?;
        let series_type = match self.text(node, "seriesType") {
            Some("Risk") => SeriesType::Risk,
            Some("Evaluation Only") => SeriesType::EvaluationOnly,
            _ => SeriesType::Standard,
        };
        let required_genders = self
            .list(node, "requiredGender")
            .iter()
            .filter_map(|gender| match gender.to_ascii_lowercase().as_str() {
                "female" => Some(Gender::Female),
                "male" => Some(Gender::Male),
                "unknown" => Some(Gender::Unknown),
                _ => None,
            })
            .collect();
        let mut indications = Vec::new();
        for indication in children(node, "indication") {
            let Some(code) = child(indication, "observationCode").and_then(|code| self.text(code, "code")) else {
                continue;
            };
            indications.push(Indication {
                observation_code: code.to_string(),
                begin_age: self.duration(indication, "beginAge")?,
                end_age: self.duration(indication, "endAge")?,
            });
        }
        let doses = children(node, "seriesDose")
            .enumerate()
            .map(|(index, dose)| self.series_dose(dose, index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Series {
            name: self.text(node, "seriesName").unwrap_or_default().to_string(),
            vaccine_group: self.text(node, "vaccineGroup").unwrap_or_default().to_string(),
            series_type,
            equivalent_series_groups: self.list(node, "equivalentSeriesGroups"),
            required_genders,
            default_series: self.flag(select, "defaultSeries"),
            product_path: self.flag(select, "productPath"),
            series_group: self.text(select, "seriesGroup").unwrap_or_default().to_string(),
            priority: self.text(select, "seriesPriority").unwrap_or("A").to_string(),
            preference: self.text(select, "seriesPreference").and_then(|p| p.parse().ok()).unwrap_or(1),
            min_age_to_start: self.duration(select, "minAgeToStart")?,
            max_age_to_start: self.duration(select, "maxAgeToStart")?,
            indications,
            doses,
        })
    }

    fn series_dose(&self, node: Node, number: usize) -> Result<SeriesDose, SupportingDataError> {
        let mut ages = Vec::new();
        for age in children(node, "age") {
            ages.push(AgeRule {
                absolute_minimum: self.duration(age, "absMinAge")?,
                minimum: self.duration(age, "minAge")?,
                earliest_recommended: self.duration(age, "earliestRecAge")?,
                latest_recommended: self.duration(age, "latestRecAge")?,
                maximum: self.duration(age, "maxAge")?,
                effective: self.date(age, "effectiveDate")?,
                cessation: self.date(age, "cessationDate")?,
            });
        }
        let intervals =
            children(node, "interval").filter_map(|n| self.interval(n).transpose()).collect::<Result<_, _>>()?;
        let allowable_intervals = children(node, "allowableInterval")
            .filter_map(|n| self.interval(n).transpose())
            .collect::<Result<_, _>>()?;
        let mut preferable_vaccines = Vec::new();
        for vaccine in children(node, "preferableVaccine") {
            preferable_vaccines.push(PreferableVaccine {
                cvx: self.text(vaccine, "cvx").unwrap_or_default().to_string(),
                begin_age: self.duration(vaccine, "beginAge")?,
                end_age: self.duration(vaccine, "endAge")?,
                mvx: self.text(vaccine, "mvx").map(str::to_string),
                forecast_vaccine_type: self.flag(vaccine, "forecastVaccineType"),
            });
        }
        let allowable_vaccines =
            children(node, "allowableVaccine").map(|vaccine| self.aged_vaccine(vaccine)).collect::<Result<_, _>>()?;
        let inadvertent_vaccines =
            children(node, "inadvertentVaccine").filter_map(|v| self.text(v, "cvx")).map(str::to_string).collect();
        let conditional_skips =
            children(node, "conditionalSkip").map(|skip| self.conditional_skip(skip)).collect::<Result<_, _>>()?;
        let season = match child(node, "seasonalRecommendation") {
            Some(season) => {
                let end = self.date(season, "endDate")?;
                self.date(season, "startDate")?.map(|start| (start, end))
            }
            None => None,
        };
        Ok(SeriesDose {
            number,
            ages,
            intervals,
            allowable_intervals,
            preferable_vaccines,
            allowable_vaccines,
            inadvertent_vaccines,
            conditional_skips,
            recurring: self.flag(node, "recurringDose"),
            season,
        })
    }

    /// An `<interval>` or `<allowableInterval>`; `None` when the element is empty.
    fn interval(&self, node: Node) -> Result<Option<Interval>, SupportingDataError> {
        let from = if self.flag(node, "fromPrevious") {
            IntervalFrom::PreviousDose
        } else if let Some(target) = self.text(node, "fromTargetDose") {
            let dose = target.parse().map_err(|_| self.value_error("fromTargetDose", target, "dose number"))?;
            IntervalFrom::TargetDose(dose)
        } else if self.text(node, "fromMostRecent").is_some() {
            IntervalFrom::MostRecent(self.list(node, "fromMostRecent"))
        } else if let Some(code) = child(node, "fromRelevantObs").and_then(|obs| self.text(obs, "code")) {
            IntervalFrom::Observation(code.to_string())
        } else {
            return Ok(None);
        };
        Ok(Some(Interval {
            from,
            absolute_minimum: self.duration(node, "absMinInt")?,
            minimum: self.duration(node, "minInt")?,
            earliest_recommended: self.duration(node, "earliestRecInt")?,
            latest_recommended: self.duration(node, "latestRecInt")?,
            priority_override: self.text(node, "intervalPriority").is_some_and(|p| p.eq_ignore_ascii_case("override")),
            effective: self.date(node, "effectiveDate")?,
            cessation: self.date(node, "cessationDate")?,
        }))
    }

    fn conditional_skip(&self, node: Node) -> Result<ConditionalSkip, SupportingDataError> {
        let context = match self.text(node, "context") {
            Some("Evaluation") => SkipContext::Evaluation,
            Some("Forecast") => SkipContext::Forecast,
            _ => SkipContext::Both,
        };
        let sets_all = self.text(node, "setLogic").is_some_and(|logic| logic.eq_ignore_ascii_case("and"));
        let mut sets = Vec::new();
        for set in children(node, "set") {
            let conditions = children(set, "condition").map(|c| self.condition(c)).collect::<Result<Vec<_>, _>>()?;
            sets.push(SkipSet {
                description: self.text(set, "setDescription").unwrap_or_default().to_string(),
                effective: self.date(set, "effectiveDate")?,
                cessation: self.date(set, "cessationDate")?,
                conditions_any: self.text(set, "conditionLogic").is_some_and(|logic| logic.eq_ignore_ascii_case("or")),
                conditions,
            });
        }
        Ok(ConditionalSkip { context, sets_all, sets })
    }

    fn condition(&self, node: Node) -> Result<SkipCondition, SupportingDataError> {
        let kind_text = self.text(node, "conditionType").unwrap_or_default();
        let kind = match kind_text.to_ascii_lowercase().as_str() {
            "age" => ConditionKind::Age,
            "completed series" => ConditionKind::CompletedSeries,
            "interval" => ConditionKind::Interval,
            "vaccine count by age" => ConditionKind::VaccineCountByAge,
            "vaccine count by date" => ConditionKind::VaccineCountByDate,
            "vaccine count by date and age" => ConditionKind::VaccineCountByDateAndAge,
            _ => return Err(self.value_error("conditionType", kind_text, "condition type")),
        };
        let count_logic = match self.text(node, "doseCountLogic").map(str::to_ascii_lowercase).as_deref() {
            Some("equal to") => CountLogic::EqualTo,
            Some("less than") => CountLogic::LessThan,
            _ => CountLogic::GreaterThan,
        };
        Ok(SkipCondition {
            kind,
            start_date: self.date(node, "startDate")?,
            end_date: self.date(node, "endDate")?,
            begin_age: self.duration(node, "beginAge")?,
            end_age: self.duration(node, "endAge")?,
            interval: self.duration(node, "interval")?,
            dose_count: self.text(node, "doseCount").and_then(|count| count.parse().ok()).unwrap_or(0),
            valid_only: self.text(node, "doseType").is_some_and(|t| t.eq_ignore_ascii_case("valid")),
            count_logic,
            vaccine_types: self.list(node, "vaccineTypes"),
            series_groups: self.list(node, "seriesGroups"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_release_loads_completely() {
        let data = parse_supporting_data(EMBEDDED_ANTIGEN_FILES, EMBEDDED_SCHEDULE).expect("embedded data parses");
        assert_eq!(data.antigens.len(), 30);
        assert_eq!(data.antigens.iter().map(|a| a.series.len()).sum::<usize>(), 143);
        assert_eq!(data.vaccine_groups.len(), 26);
        let mmr: Vec<&str> = data.cvx_antigens["03"].iter().map(|a| data.antigens[a.antigen].name.as_str()).collect();
        assert_eq!(mmr, ["Measles", "Mumps", "Rubella"]);
        assert_eq!(data.live_virus_conflicts.len(), 625);
        assert!(data.conflicts_for("21").all(|conflict| conflict.current_cvx == "21"));
        assert!(data.conflicts_for("21").count() > 0);
    }

    #[test]
    fn a_malformed_duration_names_the_file_and_element() {
        let (label, xml) = EMBEDDED_ANTIGEN_FILES[4];
        let broken = xml.replacen("<absMinAge>6 weeks - 4 days</absMinAge>", "<absMinAge>six weeks</absMinAge>", 1);
        let error = parse_supporting_data(&[(label, &broken)], EMBEDDED_SCHEDULE).expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains("Diphtheria") && message.contains("absMinAge") && message.contains("six weeks"),
            "{message}"
        );
    }

    #[test]
    fn text_that_is_not_xml_is_an_error_not_a_panic() {
        let error = parse_supporting_data(&[("Broken", "<antigenSupportingData><series>")], EMBEDDED_SCHEDULE)
            .expect_err("refused");
        assert!(error.to_string().contains("Broken"));
    }
}
