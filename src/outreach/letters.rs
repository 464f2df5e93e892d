//! Printable reminder / recall letters: one US Letter page per family (household), in plain
//! language, carrying only the names, birth dates, mailing address and the vaccines due.
//!
//! The PDF uses the base-14 Helvetica fonts with WinAnsiEncoding, so no font is embedded. Text is
//! mapped to that encoding first: letters Latin-1 can show keep their accents, other accented
//! letters lose the accents Latin-1 lacks, and anything else prints as `?`. Content streams are
//! left uncompressed.

use std::collections::HashMap;

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};
use time::Date;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{compose, is_combining_mark};

use crate::domain::outreach::{ContactDetails, DueGroup, DueStatus, Notice, PostalAddress};

/// Who the letters come from (printed as the letterhead and the "call us" line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSender {
    /// The clinic or health department, as printed on the letterhead and in the closing.
    pub organization_name: String,
    /// The number people should call to make an appointment.
    pub phone: Option<String>,
}

/// Renders one page per family: notices with the same `family_key` share a page, families in
/// the order their first notice appears. Returns the PDF bytes. Empty input: a valid PDF with one
/// page saying there are no notices.
pub fn letters_pdf(sender: &LetterSender, as_of: Date, notices: &[Notice]) -> Vec<u8> {
    let sender = SenderText::new(sender);
    let families = group_families(notices);
    let pages: Vec<Vec<u8>> = if families.is_empty() {
        vec![empty_page(&sender, as_of)]
    } else {
        families.iter().map(|family| family_page(&sender, as_of, family)).collect()
    };
    assemble(&pages)
}

/// The plain-language name of a CDSi vaccine group (`MMR` -> `Measles, mumps, rubella (MMR)`);
/// a name it does not know is returned as is.
pub fn plain_group_name(cdsi_name: &str) -> String {
    let name = cdsi_name.trim();
    let plain = match name.to_ascii_lowercase().as_str() {
        "dtap/tdap/td" => "Diphtheria, tetanus, whooping cough (DTaP/Tdap/Td)",
        "mmr" => "Measles, mumps, rubella (MMR)",
        "hepb" => "Hepatitis B (HepB)",
        "hepa" => "Hepatitis A (HepA)",
        "hib" => "Haemophilus influenzae type b (Hib)",
        "pneumococcal" => "Pneumococcal (pneumonia and other infections)",
        "polio" => "Polio",
        "varicella" => "Chickenpox (varicella)",
        "rotavirus" => "Rotavirus (a stomach virus)",
        "influenza" => "Flu (influenza)",
        "hpv" => "Human papillomavirus (HPV)",
        "meningococcal" => "Meningococcal (meningitis) (MenACWY)",
        "meningococcal b" => "Meningococcal B (MenB)",
        "covid-19" => "COVID-19",
        "rsv" => "Respiratory syncytial virus (RSV)",
        "zoster" => "Shingles (zoster)",
        _ => name,
    };
    plain.to_owned()
}

const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN: f32 = 72.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TEXT_RIGHT: f32 = PAGE_WIDTH - MARGIN;

const LETTERHEAD_BASELINE: f32 = 738.0;
const LETTERHEAD_SIZE: f32 = 14.0;
const SMALL_SIZE: f32 = 10.0;
const MAX_LETTERHEAD_LINES: usize = 2;

// A #10 window envelope shows about 4.5 x 1.1 inches, starting near 150 pt from the top.
const RECIPIENT_BASELINE: f32 = PAGE_HEIGHT - 150.0;
const RECIPIENT_WIDTH: f32 = 300.0;
const RECIPIENT_SIZE: f32 = 11.0;
const RECIPIENT_LEADING: f32 = 13.5;
const MAX_RECIPIENT_LINES: usize = 6;
const MAX_ADDRESSEE_LINES: usize = 2;

const BODY_TOP: f32 = 556.0;
const BODY_BOTTOM: f32 = 54.0;
const BODY_HEIGHT: f32 = BODY_TOP - BODY_BOTTOM;
/// Body font sizes tried in turn until the family fits; the last one is the floor.
const BODY_SIZES: [f32; 7] = [11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0];
const FLOOR_SIZE: f32 = 8.0;
const LEADING_RATIO: f32 = 1.3;
const PARAGRAPH_GAP: f32 = 0.7;
const PERSON_GAP: f32 = 0.5;
const DETAIL_INDENT: f32 = 14.0;
const VACCINE_INDENT: f32 = 26.0;
const BULLET_OFFSET: f32 = 10.0;

// Free text is clipped before layout so that one absurd field cannot crowd out the letter.
const MAX_NAME_CHARS: usize = 80;
const MAX_ORGANIZATION_CHARS: usize = 100;
const MAX_PHONE_CHARS: usize = 40;
const MAX_GROUP_CHARS: usize = 100;
const MAX_ADDRESS_CHARS: usize = 100;

const CATALOG_ID: Ref = Ref::new(1);
const PAGE_TREE_ID: Ref = Ref::new(2);
const REGULAR_FONT_ID: Ref = Ref::new(3);
const BOLD_FONT_ID: Ref = Ref::new(4);
const INFO_ID: Ref = Ref::new(5);
const FIRST_PAGE_OBJECT: usize = 6;

/// The two fonts a letter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

impl Face {
    fn resource(self) -> Name<'static> {
        match self {
            Face::Regular => Name(b"F1"),
            Face::Bold => Name(b"F2"),
        }
    }
}

/// The sender's details, clipped and ready to print.
struct SenderText {
    organization: String,
    phone: Option<String>,
}

impl SenderText {
    fn new(sender: &LetterSender) -> Self {
        let organization = clip(&sender.organization_name, MAX_ORGANIZATION_CHARS);
        let phone = sender.phone.as_deref().map(|phone| clip(phone, MAX_PHONE_CHARS)).filter(|phone| !phone.is_empty());
        SenderText { organization, phone }
    }
}

/// One person on a family's letter, with every vaccine group due across their notices.
struct Person<'a> {
    contact: &'a ContactDetails,
    groups: Vec<&'a DueGroup>,
}

/// The notices that go to one household.
struct Family<'a> {
    people: Vec<Person<'a>>,
    /// Whether the letter is addressed to a parent or guardian (the first notice has one).
    guardian: bool,
    address: Option<&'a PostalAddress>,
}

fn group_families(notices: &[Notice]) -> Vec<Family<'_>> {
    let mut families: Vec<Family<'_>> = Vec::new();
    let mut family_index: HashMap<&str, usize> = HashMap::new();
    let mut person_index: HashMap<(usize, &str), usize> = HashMap::new();
    for notice in notices {
        let slot = *family_index.entry(notice.family_key.as_str()).or_insert_with(|| {
            families.push(Family { people: Vec::new(), guardian: notice.contact.guardian.is_some(), address: None });
            families.len().saturating_sub(1)
        });
        let Some(family) = families.get_mut(slot) else { continue };
        if family.address.is_none() {
            family.address = notice.contact.address.as_ref().filter(|address| has_address(address));
        }
        let patient_id = notice.contact.patient_id.as_str();
        // Two notices for the same person are merged; without an id they cannot be told apart.
        let existing = if patient_id.is_empty() { None } else { person_index.get(&(slot, patient_id)).copied() };
        match existing.and_then(|index| family.people.get_mut(index)) {
            Some(person) => person.groups.extend(notice.vaccine_groups.iter()),
            None => {
                if !patient_id.is_empty() {
                    person_index.insert((slot, patient_id), family.people.len());
                }
                family.people.push(Person { contact: &notice.contact, groups: notice.vaccine_groups.iter().collect() });
            }
        }
    }
    families
}

fn has_address(address: &PostalAddress) -> bool {
    let filled = |field: &Option<String>| field.as_deref().is_some_and(|text| !text.trim().is_empty());
    address.lines.iter().any(|line| !line.trim().is_empty())
        || filled(&address.city)
        || filled(&address.state)
        || filled(&address.postal_code)
}

/// Writes the document around the pages' content streams.
fn assemble(pages: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut page_ids = Vec::with_capacity(pages.len());
    for (index, content) in pages.iter().enumerate() {
        // Object numbers are i32: past that many pages (far beyond any real run) the rest is left off.
        let (Some(page_id), Some(content_id)) = (object_id(index, 0), object_id(index, 1)) else { break };
        {
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT)).parent(PAGE_TREE_ID).contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Face::Regular.resource(), REGULAR_FONT_ID);
            fonts.pair(Face::Bold.resource(), BOLD_FONT_ID);
        }
        pdf.stream(content_id, content);
        page_ids.push(page_id);
    }
    let count = i32::try_from(page_ids.len()).unwrap_or(i32::MAX);
    pdf.pages(PAGE_TREE_ID).kids(page_ids).count(count);
    pdf.catalog(CATALOG_ID).pages(PAGE_TREE_ID);
    pdf.type1_font(REGULAR_FONT_ID).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(BOLD_FONT_ID).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(INFO_ID).title(TextStr("Immunization reminder letters"));
    pdf.finish()
}

fn object_id(page_index: usize, offset: usize) -> Option<Ref> {
    let number = page_index.checked_mul(2)?.checked_add(FIRST_PAGE_OBJECT)?.checked_add(offset)?;
    i32::try_from(number).ok().filter(|number| *number > 0).map(Ref::new)
}

/// A page's content stream being written.
struct PageWriter {
    content: Content,
}

impl PageWriter {
    fn new() -> Self {
        PageWriter { content: Content::new() }
    }

    fn text(&mut self, face: Face, size: f32, x: f32, y: f32, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        self.content.begin_text();
        self.content.set_font(face.resource(), size);
        self.content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
        self.content.show(Str(text));
        self.content.end_text();
    }

    fn rule(&mut self, y: f32) {
        self.content.set_line_width(0.5);
        self.content.move_to(MARGIN, y);
        self.content.line_to(TEXT_RIGHT, y);
        self.content.stroke();
    }

    fn finish(self) -> Vec<u8> {
        self.content.finish().into_vec()
    }
}

fn empty_page(sender: &SenderText, as_of: Date) -> Vec<u8> {
    let mut page = PageWriter::new();
    letterhead(&mut page, sender, as_of);
    let message = win_ansi("There are no reminder or recall notices to print.");
    page.text(Face::Regular, RECIPIENT_SIZE, MARGIN, RECIPIENT_BASELINE, &message);
    page.finish()
}

fn family_page(sender: &SenderText, as_of: Date, family: &Family<'_>) -> Vec<u8> {
    let mut page = PageWriter::new();
    letterhead(&mut page, sender, as_of);
    recipient(&mut page, family);
    let (size, rows) = fit_body(sender, as_of, family);
    let leading = size * LEADING_RATIO;
    let mut y = BODY_TOP;
    for row in &rows {
        y -= leading * (1.0 + row.gap);
        if y < BODY_BOTTOM - 0.5 {
            break;
        }
        let x = MARGIN + row.indent;
        if row.bullet {
            page.text(Face::Regular, size, x - BULLET_OFFSET, y, &[BULLET]);
        }
        page.text(row.face, size, x, y, &row.text);
    }
    page.finish()
}

/// Organization name, phone and date at the top, with a rule under them.
fn letterhead(page: &mut PageWriter, sender: &SenderText, as_of: Date) {
    let date = win_ansi(&long_date(as_of));
    let date_width = text_width(&date, Face::Regular, SMALL_SIZE);
    page.text(Face::Regular, SMALL_SIZE, TEXT_RIGHT - date_width, LETTERHEAD_BASELINE, &date);

    let name_width = (TEXT_WIDTH - date_width - 18.0).max(100.0);
    let name_lines = cap_lines(
        wrap(&win_ansi(&sender.organization), Face::Bold, LETTERHEAD_SIZE, name_width),
        MAX_LETTERHEAD_LINES,
        Face::Bold,
        LETTERHEAD_SIZE,
        name_width,
    );
    let mut y = LETTERHEAD_BASELINE;
    for (index, line) in name_lines.iter().enumerate() {
        if index > 0 {
            y -= LETTERHEAD_SIZE + 2.0;
        }
        page.text(Face::Bold, LETTERHEAD_SIZE, MARGIN, y, line);
    }
    if let Some(phone) = &sender.phone {
        y -= SMALL_SIZE + 4.0;
        let line = fit_line(&win_ansi(&format!("Phone: {phone}")), Face::Regular, SMALL_SIZE, TEXT_WIDTH);
        page.text(Face::Regular, SMALL_SIZE, MARGIN, y, &line);
    }
    page.rule(y - 8.0);
}

/// The addressee and mailing address where a window envelope shows them.
fn recipient(page: &mut PageWriter, family: &Family<'_>) {
    let size = RECIPIENT_SIZE;
    let addressee = win_ansi(&addressee(family));
    let mut lines = cap_lines(
        wrap(&addressee, Face::Regular, size, RECIPIENT_WIDTH),
        MAX_ADDRESSEE_LINES,
        Face::Regular,
        size,
        RECIPIENT_WIDTH,
    );
    if let Some(address) = family.address {
        let city_line = city_line(address);
        let room = MAX_RECIPIENT_LINES.saturating_sub(lines.len()).saturating_sub(usize::from(!city_line.is_empty()));
        for street in
            address.lines.iter().map(|line| clip(line, MAX_ADDRESS_CHARS)).filter(|line| !line.is_empty()).take(room)
        {
            lines.push(fit_line(&win_ansi(&street), Face::Regular, size, RECIPIENT_WIDTH));
        }
        if !city_line.is_empty() {
            lines.push(fit_line(&win_ansi(&city_line), Face::Regular, size, RECIPIENT_WIDTH));
        }
    }
    let mut y = RECIPIENT_BASELINE;
    for line in &lines {
        page.text(Face::Regular, size, MARGIN, y, line);
        y -= RECIPIENT_LEADING;
    }
}

/// `City, ST 55101`, leaving out whatever is missing.
fn city_line(address: &PostalAddress) -> String {
    let field = |value: &Option<String>| value.as_deref().map(|text| clip(text, MAX_ADDRESS_CHARS)).unwrap_or_default();
    let (city, state, postal_code) = (field(&address.city), field(&address.state), field(&address.postal_code));
    let mut line = city;
    if !state.is_empty() {
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&state);
    }
    if !postal_code.is_empty() {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&postal_code);
    }
    line
}

fn person_name(contact: &ContactDetails) -> String {
    let name = clip(&contact.name, MAX_NAME_CHARS);
    if name.is_empty() { "Name not on file".to_owned() } else { name }
}

fn addressee(family: &Family<'_>) -> String {
    let names: Vec<String> = family
        .people
        .iter()
        .map(|person| clip(&person.contact.name, MAX_NAME_CHARS))
        .filter(|name| !name.is_empty())
        .collect();
    match (family.guardian, names.is_empty()) {
        (true, true) => "Parent or guardian".to_owned(),
        (true, false) => format!("Parent or guardian of {}", join_names(&names)),
        (false, true) => "Current resident".to_owned(),
        (false, false) => join_names(&names),
    }
}

/// `A`, `A and B`, `A, B and C`.
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `November 21, 2026`.
fn long_date(date: Date) -> String {
    format!("{} {}, {}", date.month(), date.day(), date.year())
}

fn due_text(group: &DueGroup, as_of: Date) -> String {
    match group.status {
        DueStatus::Overdue => match group.past_due {
            Some(past_due) => format!("overdue since {}", long_date(past_due)),
            None => "overdue".to_owned(),
        },
        DueStatus::Due if group.recommended <= as_of => "due now".to_owned(),
        DueStatus::Due => format!("due {}", long_date(group.recommended)),
    }
}

/// One printed line of the letter body.
struct Row {
    face: Face,
    indent: f32,
    /// Extra space above the line, in lines.
    gap: f32,
    bullet: bool,
    text: Vec<u8>,
}

/// A piece of the vaccine list that is kept or dropped whole.
struct Item {
    rows: Vec<Row>,
    /// How many vaccine lines it holds (0 for a person's name and birth date).
    vaccines: usize,
}

/// The body at one font size, before it is fitted to the page.
struct Body {
    head: Vec<Row>,
    items: Vec<Item>,
    tail: Vec<Row>,
}

fn rows_height(rows: &[Row], leading: f32) -> f32 {
    rows.iter().map(|row| leading * (1.0 + row.gap)).sum()
}

impl Body {
    fn height(&self, leading: f32) -> f32 {
        rows_height(&self.head, leading)
            + self.items.iter().map(|item| rows_height(&item.rows, leading)).sum::<f32>()
            + rows_height(&self.tail, leading)
    }
}

/// Picks the largest font size at which the family fits; at the floor size, drops vaccine lines
/// from the end and says how many were left off.
fn fit_body(sender: &SenderText, as_of: Date, family: &Family<'_>) -> (f32, Vec<Row>) {
    let fitting = BODY_SIZES.iter().find_map(|&size| {
        let body = build_body(sender, as_of, family, size);
        (body.height(size * LEADING_RATIO) <= BODY_HEIGHT).then_some((size, body))
    });
    let (size, body) = fitting.unwrap_or_else(|| (FLOOR_SIZE, build_body(sender, as_of, family, FLOOR_SIZE)));
    let leading = size * LEADING_RATIO;
    let fits = body.height(leading) <= BODY_HEIGHT;
    let Body { head, items, tail } = body;
    let mut rows = head;
    if fits {
        rows.extend(items.into_iter().flat_map(|item| item.rows));
    } else {
        let more_gap = 0.3;
        let budget =
            BODY_HEIGHT - rows_height(&rows, leading) - rows_height(&tail, leading) - leading * (1.0 + more_gap);
        let mut used = 0.0;
        let mut full = false;
        let mut kept = Vec::new();
        let mut omitted = 0usize;
        for item in items {
            let height = rows_height(&item.rows, leading);
            if !full && used + height <= budget {
                used += height;
                kept.push(item);
            } else {
                full = true;
                omitted = omitted.saturating_add(item.vaccines);
            }
        }
        // A name with none of its vaccines under it says nothing.
        while kept.last().is_some_and(|item| item.vaccines == 0) {
            kept.pop();
        }
        rows.extend(kept.into_iter().flat_map(|item| item.rows));
        let more = match omitted {
            0 => "... and more; please call us.".to_owned(),
            1 => "... and 1 more vaccine; please call us.".to_owned(),
            count => format!("... and {count} more vaccines; please call us."),
        };
        rows.push(Row { face: Face::Bold, indent: DETAIL_INDENT, gap: more_gap, bullet: false, text: win_ansi(&more) });
    }
    rows.extend(tail);
    (size, rows)
}

fn build_body(sender: &SenderText, as_of: Date, family: &Family<'_>, size: f32) -> Body {
    let single = family.people.len() == 1;
    let salutation = match (family.guardian, family.people.as_slice()) {
        (true, _) => "Dear parent or guardian,".to_owned(),
        (false, [only]) => format!("Dear {},", person_name(only.contact)),
        (false, _) => "Dear family,".to_owned(),
    };
    let who = match (family.guardian, single) {
        (true, true) => "the child listed below is",
        (true, false) => "the children listed below are",
        (false, true) => "the person listed below is",
        (false, false) => "the people listed below are",
    };
    let intro = format!(
        "According to the state immunization registry, {who} due or overdue for vaccines (shots). \
         Vaccines help protect against serious diseases."
    );
    let mut head = Vec::new();
    paragraph(&mut head, &salutation, Face::Regular, size, 0.0);
    paragraph(&mut head, &intro, Face::Regular, size, PARAGRAPH_GAP);

    let mut items = Vec::new();
    for (index, person) in family.people.iter().enumerate() {
        let gap = if index == 0 { PARAGRAPH_GAP } else { PERSON_GAP };
        let name = fit_line(&win_ansi(&person_name(person.contact)), Face::Bold, size, TEXT_WIDTH);
        let born = win_ansi(&format!("Born {}", long_date(person.contact.birth_date)));
        let rows = vec![
            Row { face: Face::Bold, indent: 0.0, gap, bullet: false, text: name },
            Row { face: Face::Regular, indent: DETAIL_INDENT, gap: 0.0, bullet: false, text: born },
        ];
        items.push(Item { rows, vaccines: 0 });
        for group in &person.groups {
            let line = format!(
                "{}: {}",
                plain_group_name(&clip(&group.vaccine_group, MAX_GROUP_CHARS)),
                due_text(group, as_of)
            );
            let rows = wrap(&win_ansi(&line), Face::Regular, size, TEXT_WIDTH - VACCINE_INDENT)
                .into_iter()
                .enumerate()
                .map(|(line_index, text)| Row {
                    face: Face::Regular,
                    indent: VACCINE_INDENT,
                    gap: 0.0,
                    bullet: line_index == 0,
                    text,
                })
                .collect();
            items.push(Item { rows, vaccines: 1 });
        }
    }

    let call = match &sender.phone {
        Some(phone) => format!("Please call {} at {phone} to make an appointment,", sender.organization),
        None => format!("Please call {} to make an appointment,", sender.organization),
    };
    let closing = [
        format!("{call} or bring this letter with you to the clinic."),
        "If any of these vaccines were given somewhere else, please tell us so we can update the record.".to_owned(),
        "If you do not want these reminders, you can ask the health department to stop them.".to_owned(),
        "Thank you,".to_owned(),
    ];
    let mut tail = Vec::new();
    for text in &closing {
        paragraph(&mut tail, text, Face::Regular, size, PARAGRAPH_GAP);
    }
    paragraph(&mut tail, &sender.organization, Face::Bold, size, 0.0);
    Body { head, items, tail }
}

/// Adds `text` wrapped to the body width, the first line `gap` lines below what comes before.
fn paragraph(rows: &mut Vec<Row>, text: &str, face: Face, size: f32, gap: f32) {
    for (index, line) in wrap(&win_ansi(text), face, size, TEXT_WIDTH).into_iter().enumerate() {
        rows.push(Row { face, indent: 0.0, gap: if index == 0 { gap } else { 0.0 }, bullet: false, text: line });
    }
}

/// The first `max_chars` characters of the trimmed text, with `...` when cut.
fn clip(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", text.get(..end).unwrap_or_default().trim_end()),
        None => text.to_owned(),
    }
}

/// Helvetica advance widths (1/1000 em) for WinAnsi 0x20..=0x7E.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0 to 9
    278, 278, 584, 584, 584, 556, 1015, // : to @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A to Z
    278, 278, 278, 469, 556, 333, // [ to `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a to z
    334, 260, 334, 584, // { to ~
];

/// Helvetica-Bold advance widths (1/1000 em) for WinAnsi 0x20..=0x7E.
const HELVETICA_BOLD_WIDTHS: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0 to 9
    333, 333, 584, 584, 584, 611, 975, // : to @
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A to Z
    333, 278, 333, 584, 556, 333, // [ to `
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778,
    556, 556, 500, // a to z
    389, 280, 389, 584, // { to ~
];

fn glyph_width(byte: u8, face: Face) -> u16 {
    let table = match face {
        Face::Regular => &HELVETICA_WIDTHS,
        Face::Bold => &HELVETICA_BOLD_WIDTHS,
    };
    // Above 0x7E only the widest glyphs are listed; the rest use a width at least as wide as
    // their base letter, so lines may wrap a little early but never run off the page.
    match byte {
        0x20..=0x7E => table.get(usize::from(byte - 0x20)).copied().unwrap_or(1000),
        0xA0 => 278,
        0x85 | 0x89 | 0x8C | 0x97 | 0x99 | 0x9C | 0xC6 | 0xE6 => 1000,
        0xA9 | 0xAE => 737,
        0xBC..=0xBE => 834,
        0x80..=0xFF => match face {
            Face::Regular => 667,
            Face::Bold => 722,
        },
        _ => 0,
    }
}

fn text_width(text: &[u8], face: Face, size: f32) -> f32 {
    let units: u32 = text.iter().map(|&byte| u32::from(glyph_width(byte, face))).sum();
    // Exact: real lines stay far below f32's 2^24 integer range.
    units as f32 * size / 1000.0
}

/// Breaks WinAnsi text into lines no wider than `width`, at spaces where it can and inside a word
/// only when the word alone is too wide.
fn wrap(text: &[u8], face: Face, size: f32, width: f32) -> Vec<Vec<u8>> {
    let space = text_width(b" ", face, size);
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0.0;
    for word in text.split(|&byte| byte == b' ').filter(|word| !word.is_empty()) {
        let word_width = text_width(word, face, size);
        if !line.is_empty() && line_width + space + word_width <= width {
            line.push(b' ');
            line.extend_from_slice(word);
            line_width += space + word_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        line_width = 0.0;
        for &byte in word {
            let byte_width = text_width(&[byte], face, size);
            if !line.is_empty() && line_width + byte_width > width {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(byte);
            line_width += byte_width;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The text cut to fit `width` on one line, ending in `...` when cut.
fn fit_line(text: &[u8], face: Face, size: f32, width: f32) -> Vec<u8> {
    if text_width(text, face, size) <= width {
        return text.to_vec();
    }
    let room = width - text_width(b"...", face, size);
    let mut line = Vec::new();
    let mut line_width = 0.0;
    for &byte in text {
        let byte_width = text_width(&[byte], face, size);
        if line_width + byte_width > room {
            break;
        }
        line.push(byte);
        line_width += byte_width;
    }
    while line.last() == Some(&b' ') {
        line.pop();
    }
    line.extend_from_slice(b"...");
    line
}

/// At most `max` lines, the last ending in `...` when some were left off.
fn cap_lines(mut lines: Vec<Vec<u8>>, max: usize, face: Face, size: f32, width: f32) -> Vec<Vec<u8>> {
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            let mut text = std::mem::take(last);
            text.extend_from_slice(b" ...");
            *last = fit_line(&text, face, size, width);
        }
    }
    lines
}

const BULLET: u8 = 0x95;

/// Text in WinAnsiEncoding, whitespace collapsed: what Latin-1 (and WinAnsi's extras) can show
/// is kept, other letters lose the accents it cannot show, the rest becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.nfc() {
        if is_invisible(c) || (c.is_control() && !c.is_whitespace()) || is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            push_space(&mut out);
        } else if let Some(byte) = win_ansi_byte(c) {
            out.push(byte);
        } else {
            approximate(c, &mut out);
        }
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
    out
}

fn push_space(out: &mut Vec<u8>) {
    if out.last().is_some_and(|&last| last != b' ') {
        out.push(b' ');
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Pushes the nearest WinAnsi spelling of a character WinAnsi lacks: its compatibility
/// decomposition, keeping only the accents Latin-1 has a letter for (`ễ` -> `ê`, `ﬁ` -> `fi`).
fn approximate(c: char, out: &mut Vec<u8>) {
    let start = out.len();
    let mut current: Option<char> = None;
    let mut complete = true;
    for part in std::iter::once(c).nfkd() {
        if is_combining_mark(part) {
            if let Some(base) = current
                && let Some(accented) = compose(base, part)
                && win_ansi_byte(accented).is_some()
            {
                current = Some(accented);
            }
            continue;
        }
        if let Some(byte) = current.take().and_then(win_ansi_byte) {
            out.push(byte);
        }
        if part.is_whitespace() {
            current = Some(' ');
        } else if win_ansi_byte(part).is_some() {
            current = Some(part);
        } else {
            complete = false;
            break;
        }
    }
    if complete && let Some(byte) = current.and_then(win_ansi_byte) {
        out.push(byte);
    }
    if !complete || out.len() == start {
        out.truncate(start);
        out.push(fallback(c));
    }
}

/// Letters with a stroke have no decomposition, but their plain letter reads well enough.
fn fallback(c: char) -> u8 {
    match c {
        'đ' => b'd',
        'Đ' => b'D',
        'ł' => b'l',
        'Ł' => b'L',
        'ı' => b'i',
        'ħ' => b'h',
        'Ħ' => b'H',
        'ŧ' => b't',
        'Ŧ' => b'T',
        '‐' | '‑' | '‒' | '−' => b'-',
        '⁄' => b'/',
        _ => b'?',
    }
}

fn win_ansi_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    if matches!(code, 0x20..=0x7E | 0xA0..=0xFF) {
        return u8::try_from(code).ok();
    }
    let byte = match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    };
    Some(byte)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::domain::outreach::{Guardian, NoticeKind};
    use time::macros::date;

    const AS_OF: Date = date!(2026 - 11 - 21);

    fn sender() -> LetterSender {
        LetterSender { organization_name: "Riverside Family Clinic".to_owned(), phone: Some("651-555-0100".to_owned()) }
    }

    fn group(name: &str, status: DueStatus) -> DueGroup {
        DueGroup {
            vaccine_group: name.to_owned(),
            status,
            dose_number: 2,
            earliest: date!(2026 - 09 - 01),
            recommended: date!(2026 - 10 - 01),
            past_due: (status == DueStatus::Overdue).then_some(date!(2026 - 11 - 01)),
        }
    }

    fn notice(number: i64, patient_id: &str, name: &str, family_key: &str, groups: Vec<DueGroup>) -> Notice {
        Notice {
            number,
            kind: NoticeKind::Recall,
            contact: ContactDetails {
                patient_id: patient_id.to_owned(),
                name: name.to_owned(),
                family: None,
                birth_date: date!(2022 - 03 - 03),
                guardian: Some(Guardian {
                    name: "Rosa Lopez".to_owned(),
                    relationship: Some("mother".to_owned()),
                    phone: Some("612-555-7788".to_owned()),
                    email: Some("rosa@example.org".to_owned()),
                }),
                address: Some(PostalAddress {
                    lines: vec!["123 Main St".to_owned()],
                    city: Some("Saint Paul".to_owned()),
                    state: Some("MN".to_owned()),
                    postal_code: Some("55101".to_owned()),
                }),
                phone: Some("651-555-9876".to_owned()),
                email: Some("family@example.org".to_owned()),
            },
            vaccine_groups: groups,
            family_key: family_key.to_owned(),
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|window| window == needle)
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|window| window == needle)
    }

    fn page_count(pdf: &[u8]) -> usize {
        let needle = b"/Type /Page";
        pdf.windows(needle.len() + 1)
            .filter(|window| window.starts_with(needle) && window.last() != Some(&b's'))
            .count()
    }

    fn well_formed(pdf: &[u8]) {
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
    }

    #[test]
    fn one_page_per_family_in_order_of_first_notice() {
        let notices = vec![
            notice(1, "p1", "Ana Lopez", "fam-a", vec![group("MMR", DueStatus::Overdue)]),
            notice(2, "p2", "Ben Smith", "fam-b", vec![group("HepB", DueStatus::Due)]),
            notice(3, "p3", "Carla Lopez", "fam-a", vec![group("Varicella", DueStatus::Due)]),
        ];
        let pdf = letters_pdf(&sender(), AS_OF, &notices);
        well_formed(&pdf);
        assert_eq!(page_count(&pdf), 2);
        assert!(contains(&pdf, b"Parent or guardian of Ana Lopez and Carla Lopez"));
        let carla = find(&pdf, b"Carla Lopez").unwrap();
        let ben = find(&pdf, b"Ben Smith").unwrap();
        assert!(carla < ben, "family A's page comes first");
    }

    #[test]
    fn prints_names_plain_group_names_and_dates() {
        let notices = vec![notice(
            1,
            "p1",
            "Ana Lopez",
            "fam-a",
            vec![group("MMR", DueStatus::Overdue), group("DTaP/Tdap/Td", DueStatus::Due)],
        )];
        let pdf = letters_pdf(&sender(), AS_OF, &notices);
        well_formed(&pdf);
        assert!(contains(&pdf, b"Ana Lopez"));
        assert!(contains(&pdf, b"Measles, mumps, rubella"));
        assert!(contains(&pdf, b"overdue since November 1, 2026"));
        assert!(contains(&pdf, b"due now"));
        assert!(contains(&pdf, b"November 21, 2026"));
        assert!(contains(&pdf, b"Born March 3, 2022"));
        assert!(contains(&pdf, b"Saint Paul, MN 55101"));
        assert!(contains(&pdf, b"Riverside Family Clinic"));
        assert!(contains(&pdf, b"651-555-0100"));
    }

    #[test]
    fn never_prints_contact_details_or_identifiers() {
        let notices = vec![notice(1, "PATIENT-ID-4242", "Ana Lopez", "fam-a", vec![group("MMR", DueStatus::Due)])];
        let pdf = letters_pdf(&sender(), AS_OF, &notices);
        for secret in [
            &b"651-555-9876"[..],
            b"family@example.org",
            b"PATIENT-ID-4242",
            b"612-555-7788",
            b"rosa@example.org",
            b"Rosa",
        ] {
            assert!(!contains(&pdf, secret), "{}", String::from_utf8_lossy(secret));
        }
    }

    #[test]
    fn odd_names_do_not_break_the_pdf() {
        let names = [
            "Nguyễn Văn (Bé) 王小明",
            "))((\\ ( \\\\ )",
            "",
            "\u{0}\u{7}\u{301}\u{FEFF}",
            "José Ñúñez-Müller",
            "😀 ﬁne ʃ",
        ];
        let notices: Vec<Notice> = names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let mut notice =
                    notice(1, &format!("p{index}"), name, &format!("f{index}"), vec![group(name, DueStatus::Due)]);
                notice.contact.address = Some(PostalAddress {
                    lines: vec![(*name).to_owned(), String::new()],
                    city: Some((*name).to_owned()),
                    state: None,
                    postal_code: None,
                });
                notice
            })
            .collect();
        let pdf = letters_pdf(
            &LetterSender { organization_name: "Clinic (North) \\ 北".to_owned(), phone: None },
            AS_OF,
            &notices,
        );
        well_formed(&pdf);
        assert_eq!(page_count(&pdf), names.len());
    }

    #[test]
    fn a_long_list_stays_on_one_page() {
        let groups: Vec<DueGroup> =
            (0..40).map(|index| group(&format!("Vaccine group {index}"), DueStatus::Overdue)).collect();
        let pdf = letters_pdf(&sender(), AS_OF, &[notice(1, "p1", "Ana Lopez", "fam-a", groups)]);
        well_formed(&pdf);
        assert_eq!(page_count(&pdf), 1);
        assert!(contains(&pdf, b"more vaccines; please call us."));
        assert!(contains(&pdf, b"stop them."), "the closing is still there");
    }

    #[test]
    fn a_family_that_fits_is_not_truncated() {
        let groups: Vec<DueGroup> = ["MMR", "HepB", "Polio"].iter().map(|name| group(name, DueStatus::Due)).collect();
        let pdf = letters_pdf(&sender(), AS_OF, &[notice(1, "p1", "Ana Lopez", "fam-a", groups)]);
        assert!(!contains(&pdf, b"more vaccine"));
    }

    #[test]
    fn empty_input_is_one_page_saying_so() {
        let pdf = letters_pdf(&sender(), AS_OF, &[]);
        well_formed(&pdf);
        assert_eq!(page_count(&pdf), 1);
        assert!(contains(&pdf, b"There are no reminder or recall notices"));
    }

    #[test]
    fn maps_text_to_win_ansi() {
        assert_eq!(win_ansi("José Müller"), b"Jos\xE9 M\xFCller");
        assert_eq!(win_ansi("Nguyễn Đức"), b"Nguy\xEAn D\xFAc");
        assert_eq!(win_ansi("Jose\u{301}"), b"Jos\xE9");
        assert_eq!(win_ansi("王 小"), b"? ?");
        assert_eq!(win_ansi("  a \n\t b  "), b"a b");
        assert_eq!(win_ansi("ﬁ “x” €"), b"fi \x93x\x94 \x80");
        assert_eq!(win_ansi("Łukasz đ"), b"Lukasz d");
    }

    #[test]
    fn names_vaccine_groups_plainly() {
        assert_eq!(plain_group_name("DTaP/Tdap/Td"), "Diphtheria, tetanus, whooping cough (DTaP/Tdap/Td)");
        assert_eq!(plain_group_name("MMR"), "Measles, mumps, rubella (MMR)");
        assert_eq!(plain_group_name("Varicella"), "Chickenpox (varicella)");
        assert_eq!(plain_group_name("Zoster"), "Shingles (zoster)");
        assert_eq!(plain_group_name("Something New"), "Something New");
    }

    #[test]
    fn due_dates_read_plainly() {
        let mut due = group("MMR", DueStatus::Due);
        assert_eq!(due_text(&due, AS_OF), "due now");
        due.recommended = date!(2026 - 12 - 05);
        assert_eq!(due_text(&due, AS_OF), "due December 5, 2026");
        assert_eq!(due_text(&group("MMR", DueStatus::Overdue), AS_OF), "overdue since November 1, 2026");
    }

    #[test]
    fn wraps_within_the_width() {
        let text = win_ansi("one two three four five six seven eight nine ten eleven twelve");
        let lines = wrap(&text, Face::Regular, 11.0, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|line| text_width(line, Face::Regular, 11.0) <= 100.0));
        let long = wrap(&[b'W'; 200], Face::Bold, 11.0, 100.0);
        assert!(long.iter().all(|line| !line.is_empty() && text_width(line, Face::Bold, 11.0) <= 100.0));
    }
}
