//! The certificate lists, one per certificate class, with filters, sortable
//! columns, paging and a CSV download of what the filters select.
//!
//! Paging in id order walks the store's id index with a cursor (`after`), so a
//! page reads only what it shows; any other order sorts the matching set, of
//! which at most [`MAX_SORTED`] are sorted (the page says so when there are more).

use maud::{html, Markup};
use policy::model::{Administrator, CertificateClass, DeptId, OrgId};
use policy::registry::{CertificateFilter, OwnedCertificate, RaError, RegistrationAuthority};

/// Rows on a page.
pub const PAGE_SIZE: usize = 50;
/// The most matches sorted by a column other than the id.
pub const MAX_SORTED: usize = 10_000;

/// The columns a list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    /// Issue order (the store's id index).
    #[default]
    Id,
    /// The subject.
    Subject,
    /// The profile.
    Profile,
    /// The end of validity.
    Expires,
    /// The status.
    Status,
}

impl SortColumn {
    const ALL: [SortColumn; 5] = [
        SortColumn::Id,
        SortColumn::Subject,
        SortColumn::Profile,
        SortColumn::Expires,
        SortColumn::Status,
    ];

    /// Its word in a query string.
    pub fn word(self) -> &'static str {
        match self {
            SortColumn::Id => "id",
            SortColumn::Subject => "subject",
            SortColumn::Profile => "profile",
            SortColumn::Expires => "expires",
            SortColumn::Status => "status",
        }
    }

    /// The column of a query string's word.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.word() == word)
    }
}

/// What a list shows (from the query string, validated).
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    /// One class's certificates only.
    pub class: Option<CertificateClass>,
    /// "issued", "revoked", "replaced".
    pub status: Option<String>,
    /// Text in a name or the subject.
    pub name: Option<String>,
    /// Hex digits of the serial number.
    pub serial: Option<String>,
    /// The organization.
    pub org: Option<OrgId>,
    /// The department.
    pub dept: Option<DeptId>,
    /// The profile.
    pub profile: Option<String>,
    /// The issuing CA.
    pub issuer: Option<String>,
    /// Expiring on or after this day (YYYY-MM-DD).
    pub expires_from: Option<time::Date>,
    /// Expiring before the end of this day (YYYY-MM-DD).
    pub expires_to: Option<time::Date>,
    /// Only those expiring within this many days (the dashboard's links).
    pub expires_within: Option<i64>,
    /// The order.
    pub sort: SortColumn,
    /// Descending instead of ascending.
    pub descending: bool,
    /// In id order: the last id of the previous page.
    pub after: u64,
    /// In any other order: the page, from 0.
    pub page: usize,
}

const DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// The class's word in a query string and a heading.
pub fn class_word(class: CertificateClass) -> (&'static str, &'static str) {
    match class {
        CertificateClass::TlsServer => ("tls-server", "TLS server"),
        CertificateClass::ClientSmime => ("client-smime", "Client and S/MIME"),
        CertificateClass::Device => ("device", "Device"),
        CertificateClass::CodeSigning => ("code-signing", "Code signing"),
    }
}

impl ListQuery {
    /// Parses a query string; what does not parse is left out (the form shows it unset).
    pub fn parse(query: &str) -> Self {
        let mut q = ListQuery::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let v = v.trim().chars().take(128).collect::<String>();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "class" => {
                    q.class = CertificateClass::ALL
                        .into_iter()
                        .find(|c| class_word(*c).0 == v)
                }
                "status" if ["issued", "revoked", "replaced"].contains(&v.as_str()) => {
                    q.status = Some(v)
                }
                "name" => q.name = Some(v),
                "serial" => q.serial = Some(v),
                "org" => q.org = v.parse().ok().map(OrgId),
                "dept" => q.dept = v.parse().ok().map(DeptId),
                "profile" => q.profile = Some(v),
                "issuer" => q.issuer = Some(v),
                "expires_from" => q.expires_from = time::Date::parse(&v, DATE).ok(),
                "expires_to" => q.expires_to = time::Date::parse(&v, DATE).ok(),
                "expires_within" => q.expires_within = v.parse().ok(),
                "sort" => q.sort = SortColumn::parse(&v).unwrap_or_default(),
                "dir" => q.descending = v == "desc",
                "after" => q.after = v.parse().unwrap_or(0),
                "page" => q.page = v.parse::<usize>().unwrap_or(0).min(MAX_SORTED / PAGE_SIZE),
                _ => {}
            }
        }
        q
    }

    /// The RA's filter for this query.
    pub fn filter(&self, ra: &RegistrationAuthority, now: i64) -> CertificateFilter {
        let midnight = |d: time::Date| d.midnight().assume_utc().unix_timestamp();
        let before = [
            self.expires_within
                .map(|d| now + d.clamp(0, 36_500) * 86_400),
            self.expires_to.map(|d| midnight(d) + 86_400),
        ]
        .into_iter()
        .flatten()
        .min();
        CertificateFilter {
            status: self.status.clone(),
            org: self.org,
            dept: self.dept,
            profile: self.profile.clone(),
            issuer: self.issuer.clone(),
            serial: self.serial.clone(),
            name: self.name.clone(),
            expires_before: before,
            expires_after: self.expires_from.map(midnight),
            profiles: self.class.map(|class| {
                ra.ca()
                    .profiles()
                    .iter()
                    .filter(|p| CertificateClass::of(p.certificate_type) == class)
                    .map(|p| p.name.clone())
                    .collect()
            }),
        }
    }

    /// The query string of the filters (no order, no page), for links.
    pub fn filters_query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(c) = self.class {
            q.append_pair("class", class_word(c).0);
        }
        let text = [
            ("status", &self.status),
            ("name", &self.name),
            ("serial", &self.serial),
            ("profile", &self.profile),
            ("issuer", &self.issuer),
        ];
        for (k, v) in text {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        if let Some(o) = self.org {
            q.append_pair("org", &o.0.to_string());
        }
        if let Some(d) = self.dept {
            q.append_pair("dept", &d.0.to_string());
        }
        for (k, d) in [
            ("expires_from", self.expires_from),
            ("expires_to", self.expires_to),
        ] {
            if let Some(d) = d.and_then(|d| d.format(DATE).ok()) {
                q.append_pair(k, &d);
            }
        }
        if let Some(w) = self.expires_within {
            q.append_pair("expires_within", &w.to_string());
        }
        q.finish()
    }

    fn order_query(&self, sort: SortColumn, descending: bool) -> String {
        let filters = self.filters_query();
        let dir = if descending { "desc" } else { "asc" };
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("{filters}{sep}sort={}&dir={dir}", sort.word())
    }
}

/// One page of a list: its rows, and where the next page starts (if there is one).
struct ListPage {
    rows: Vec<OwnedCertificate>,
    next: Option<String>,
    previous: Option<String>,
    /// More matched than [`MAX_SORTED`]: only the first ones were sorted.
    truncated: bool,
}

fn list_page(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    query: &ListQuery,
    filter: &CertificateFilter,
) -> Result<ListPage, RaError> {
    let order = query.order_query(query.sort, query.descending);
    if query.sort == SortColumn::Id && !query.descending {
        let mut rows = ra.certificates(admin, filter, query.after, PAGE_SIZE + 1)?;
        let more = rows.len() > PAGE_SIZE;
        rows.truncate(PAGE_SIZE);
        let next = match rows.last() {
            Some(last) if more => Some(format!("{order}&after={}", last.record.id)),
            _ => None,
        };
        let previous = (query.after > 0).then(|| order.clone());
        return Ok(ListPage {
            rows,
            next,
            previous,
            truncated: false,
        });
    }
    let mut all = ra.certificates(admin, filter, 0, MAX_SORTED + 1)?;
    let truncated = all.len() > MAX_SORTED;
    all.truncate(MAX_SORTED);
    all.sort_by(|a, b| {
        let (a, b) = (&a.record, &b.record);
        let ordering = match query.sort {
            SortColumn::Id => a.id.cmp(&b.id),
            SortColumn::Subject => a.subject.cmp(&b.subject),
            SortColumn::Profile => a.profile.cmp(&b.profile),
            SortColumn::Expires => a.not_after.cmp(&b.not_after),
            SortColumn::Status => a.status.name().cmp(b.status.name()),
        }
        .then(a.id.cmp(&b.id));
        if query.descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
    let start = query.page * PAGE_SIZE;
    let rows: Vec<_> = all.into_iter().skip(start).take(PAGE_SIZE + 1).collect();
    let more = rows.len() > PAGE_SIZE;
    let rows = rows.into_iter().take(PAGE_SIZE).collect();
    Ok(ListPage {
        rows,
        next: more.then(|| format!("{order}&page={}", query.page + 1)),
        previous: (query.page > 0).then(|| format!("{order}&page={}", query.page - 1)),
        truncated,
    })
}

/// The list's body: the class tabs, the filter form, the table and the pager.
pub fn certificates(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    query: &ListQuery,
    now: i64,
) -> Result<Markup, RaError> {
    let filter = query.filter(ra, now);
    let page = list_page(ra, admin, query, &filter)?;
    let orgs = ra.organizations(admin)?;
    let depts = ra.departments(admin, None)?;
    let profiles = ra.ca().profiles().names();
    let issuers: Vec<String> = ra.ca().cas().map(|c| c.id().to_string()).collect();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let day = |d: Option<time::Date>| d.and_then(|d| d.format(DATE).ok()).unwrap_or_default();
    let csv = format!("/console/certificates.csv?{}", query.filters_query());
    Ok(html! {
        nav.tabs aria-label="certificate classes" {
            a href="/console/certificates" aria-current=[query.class.is_none().then_some("page")] { "All" }
            @for class in CertificateClass::ALL {
                @let (word, label) = class_word(class);
                a href=(format!("/console/certificates?class={word}"))
                    aria-current=[(query.class == Some(class)).then_some("page")] { (label) }
            }
        }
        form.filters method="get" action="/console/certificates" {
            @if let Some(class) = query.class {
                input type="hidden" name="class" value=(class_word(class).0);
            }
            div {
                label for="name" { "Name or subject contains" }
                input #name type="text" name="name" value=(text(&query.name));
            }
            div {
                label for="serial" { "Serial number" }
                input #serial type="text" name="serial" value=(text(&query.serial));
            }
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "any" }
                    @for s in ["issued", "revoked", "replaced"] {
                        option value=(s) selected[query.status.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            div {
                label for="org" { "Organization" }
                select #org name="org" {
                    option value="" { "any" }
                    @for o in &orgs {
                        option value=(o.id.0) selected[query.org == Some(o.id)] { (o.name) }
                    }
                }
            }
            div {
                label for="dept" { "Department" }
                select #dept name="dept" {
                    option value="" { "any" }
                    @for d in &depts {
                        option value=(d.id.0) selected[query.dept == Some(d.id)] { (d.name) }
                    }
                }
            }
            div {
                label for="profile" { "Profile" }
                select #profile name="profile" {
                    option value="" { "any" }
                    @for p in &profiles {
                        option value=(p) selected[query.profile.as_deref() == Some(p.as_str())] { (p) }
                    }
                }
            }
            div {
                label for="issuer" { "Issuing CA" }
                select #issuer name="issuer" {
                    option value="" { "any" }
                    @for i in &issuers {
                        option value=(i) selected[query.issuer.as_deref() == Some(i.as_str())] { (i) }
                    }
                }
            }
            div {
                label for="expires_from" { "Expires from" }
                input #expires_from type="date" name="expires_from" value=(day(query.expires_from));
            }
            div {
                label for="expires_to" { "Expires until" }
                input #expires_to type="date" name="expires_to" value=(day(query.expires_to));
            }
            p { button type="submit" { "Filter" } " " a href=(csv) { "Download CSV" } }
        }
        @if page.truncated {
            p.note { "More than " (MAX_SORTED) " certificates match: only the first " (MAX_SORTED) " are sorted. Narrow the filters." }
        }
        p { (page.rows.len()) " certificates on this page" }
        table #certificates {
            thead { tr {
                (sort_header(query, SortColumn::Id, "Id"))
                (sort_header(query, SortColumn::Subject, "Subject"))
                th scope="col" { "Names" }
                (sort_header(query, SortColumn::Profile, "Profile"))
                th scope="col" { "Serial" }
                (sort_header(query, SortColumn::Expires, "Expires"))
                (sort_header(query, SortColumn::Status, "Status"))
            } }
            tbody {
                @for c in &page.rows {
                    tr {
                        td { a href=(format!("/console/certificates/{}", c.record.id)) { (c.record.id) } }
                        td { (c.record.subject) }
                        td { (c.record.names.iter().map(|n| n.value()).collect::<Vec<_>>().join(", ")) }
                        td { (c.record.profile) }
                        td { code { (c.record.serial.to_hex()) } }
                        td { (super::day(c.record.not_after)) }
                        td { (c.record.status.name()) }
                    }
                }
            }
        }
        nav.pager aria-label="pages" {
            @if let Some(previous) = &page.previous {
                a rel="prev" href=(format!("/console/certificates?{previous}")) { "Previous page" }
            }
            " "
            @if let Some(next) = &page.next {
                a rel="next" href=(format!("/console/certificates?{next}")) { "Next page" }
            }
        }
    })
}

/// A column header that sorts by its column (and flips the order when it already does).
fn sort_header(query: &ListQuery, column: SortColumn, label: &str) -> Markup {
    let current = query.sort == column;
    let descending = current && !query.descending;
    let state = match (current, query.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    html! {
        th scope="col" aria-sort=(state) {
            a href=(format!("/console/certificates?{}", query.order_query(column, descending))) { (label) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_parses_into_validated_filters() {
        let q = ListQuery::parse(
            "class=device&status=revoked&org=3&dept=x&expires_from=2027-01-31&expires_to=nonsense&sort=expires&dir=desc&page=99999",
        );
        assert_eq!(q.class, Some(CertificateClass::Device));
        assert_eq!(q.status.as_deref(), Some("revoked"));
        assert_eq!(q.org, Some(OrgId(3)));
        assert_eq!(q.dept, None);
        assert_eq!(
            q.expires_from.map(|d| d.to_string()).as_deref(),
            Some("2027-01-31")
        );
        assert_eq!(q.expires_to, None);
        assert_eq!(q.sort, SortColumn::Expires);
        assert!(q.descending);
        assert_eq!(q.page, MAX_SORTED / PAGE_SIZE);
        let unknown = ListQuery::parse("status=pending&sort=drop+table");
        assert_eq!(unknown.status, None);
        assert_eq!(unknown.sort, SortColumn::Id);
    }

    #[test]
    fn links_keep_the_filters_and_set_the_order() {
        let q = ListQuery::parse("name=a%26b&status=issued&sort=subject");
        assert_eq!(q.filters_query(), "status=issued&name=a%26b");
        assert_eq!(
            q.order_query(SortColumn::Subject, true),
            "status=issued&name=a%26b&sort=subject&dir=desc"
        );
    }
}
