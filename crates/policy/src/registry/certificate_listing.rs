//! Listing certificates a page at a time, through the index that narrows the
//! listing most.
//!
//! A listing is in id order and resumes after an id, so every source it reads
//! is keyed `(…, id)`: the organization and department indexes (written with
//! the owner), the profile and status indexes (written with the record), or
//! the records themselves. The source is chosen from the filter and the
//! actor's scope; every other filter is then checked on the records read. A
//! page thus reads about `limit ÷ (the share of the source that matches)`
//! records, whatever the size of the store: the first page and the ten
//! thousandth cost the same.

use ca_core::certificates::CertificateStatus;

use super::certificates::{dept_prefix, org_prefix, CERTIFICATES_BY_DEPT, CERTIFICATES_BY_ORG};
use super::{id_key, RaResult, RegistrationAuthority, OWNERS};
use crate::authz::{authorize, Action};
use crate::model::*;
use crate::registry::{CertificateFilter, OwnedCertificate};

/// The most ids a listing reads from its sources at a time. A step starts at the page's
/// size (a filter that matches most of its source fills the page in one step) and grows
/// fourfold while the filter keeps missing.
const CHUNK: usize = 512;

/// One id-ordered index range a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IdSource {
    Organization(OrgId),
    Department(DeptId),
    Profile(String),
    Status(u8),
}

/// Where a listing reads its candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Candidates {
    /// Every record, in id order: nothing narrower applies.
    Everything,
    /// The union of these index ranges (none: the listing is empty).
    Indexed(Vec<IdSource>),
}

/// The narrowest source for a filter and an actor. Department before
/// organization before the actor's scope before profile before status: a
/// department holds fewer certificates than its organization, and a scoped
/// actor sees only their organizations' or departments' certificates.
fn candidates(actor: &Administrator, filter: &CertificateFilter) -> Candidates {
    if let Some(dept) = filter.dept {
        return Candidates::Indexed(vec![IdSource::Department(dept)]);
    }
    if let Some(org) = filter.org {
        return Candidates::Indexed(vec![IdSource::Organization(org)]);
    }
    match &actor.role {
        Role::Rao { orgs } => {
            return Candidates::Indexed(orgs.iter().copied().map(IdSource::Organization).collect())
        }
        Role::Drao { depts } => {
            return Candidates::Indexed(depts.iter().copied().map(IdSource::Department).collect())
        }
        Role::Mrao => {}
    }
    if let Some(profile) = &filter.profile {
        return Candidates::Indexed(vec![IdSource::Profile(profile.clone())]);
    }
    if let Some(profiles) = &filter.profiles {
        return Candidates::Indexed(profiles.iter().cloned().map(IdSource::Profile).collect());
    }
    if let Some(status) = &filter.status {
        return Candidates::Indexed(
            CertificateStatus::code_of_name(status)
                .map(IdSource::Status)
                .into_iter()
                .collect(),
        );
    }
    Candidates::Everything
}

impl RegistrationAuthority {
    /// Certificates visible to the actor, after `after` (id), at most `limit`, filtered.
    pub fn certificates(
        &self,
        actor: &Administrator,
        filter: &CertificateFilter,
        after: u64,
        limit: usize,
    ) -> RaResult<Vec<OwnedCertificate>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let sources = candidates(actor, filter);
        let mut cursor = after;
        let mut chunk = limit.saturating_add(1).clamp(16, CHUNK);
        loop {
            // The records of this step, and the id the next step resumes after (an index
            // entry whose record is missing still moves the cursor on).
            let (page, last) = match &sources {
                Candidates::Everything => {
                    let page = self.ca.certificates().list(cursor, chunk)?;
                    let last = page.last().map(|r| r.id);
                    (page, last)
                }
                Candidates::Indexed(sources) => {
                    let ids = self.ids_after(sources, cursor, chunk)?;
                    let mut page = Vec::with_capacity(ids.len());
                    for &id in &ids {
                        page.extend(self.ca.certificates().get(id)?);
                    }
                    (page, ids.last().copied())
                }
            };
            let Some(last) = last else {
                return Ok(out);
            };
            cursor = last;
            chunk = chunk.saturating_mul(4).min(CHUNK);
            for record in page {
                let Some(owner) = OWNERS.get(&self.store, &id_key(record.id))? else {
                    continue; // gateway-internal certificates (HTTPS, OCSP responders) have no owner
                };
                let visible = authorize(
                    actor,
                    Action::View,
                    Scope {
                        org: owner.org,
                        dept: owner.dept,
                    },
                )
                .is_ok();
                if visible && filter.matches(&record, &owner) {
                    out.push(OwnedCertificate { record, owner });
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
    }

    /// The next ids after `after` of the union of `sources`, ascending, at most `chunk`.
    ///
    /// Each source gives its first `chunk` ids; the first `chunk` of their union are then
    /// exactly the union's first `chunk`, since an id any source left out is greater than
    /// the `chunk` that source gave.
    fn ids_after(&self, sources: &[IdSource], after: u64, chunk: usize) -> RaResult<Vec<u64>> {
        let certificates = self.ca.certificates();
        let mut ids = Vec::new();
        for source in sources {
            ids.extend(match source {
                IdSource::Organization(org) => {
                    CERTIFICATES_BY_ORG.ids_after(&self.store, &org_prefix(*org), after, chunk)?
                }
                IdSource::Department(dept) => CERTIFICATES_BY_DEPT.ids_after(
                    &self.store,
                    &dept_prefix(*dept),
                    after,
                    chunk,
                )?,
                IdSource::Profile(profile) => {
                    certificates.ids_with_profile_after(profile, after, chunk)?
                }
                IdSource::Status(code) => {
                    certificates.ids_with_status_after(*code, after, chunk)?
                }
            });
        }
        if sources.len() > 1 {
            ids.sort_unstable();
            ids.dedup();
            ids.truncate(chunk);
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn admin(role: Role) -> Administrator {
        Administrator {
            id: AdminId(1),
            username: "a".into(),
            password_hash: String::new(),
            role,
            privileges: Default::default(),
            active: true,
            created_at: 0,
            client_certificates: Vec::new(),
            idp_identity: None,
            password_login: true,
        }
    }

    #[test]
    fn the_narrowest_source_is_chosen() {
        let mrao = admin(Role::Mrao);
        let rao = admin(Role::Rao {
            orgs: BTreeSet::from([OrgId(3), OrgId(5)]),
        });
        let filter = |f: fn(&mut CertificateFilter)| {
            let mut filter = CertificateFilter::default();
            f(&mut filter);
            filter
        };
        assert_eq!(
            candidates(&mrao, &CertificateFilter::default()),
            Candidates::Everything
        );
        assert_eq!(
            candidates(&rao, &CertificateFilter::default()),
            Candidates::Indexed(vec![
                IdSource::Organization(OrgId(3)),
                IdSource::Organization(OrgId(5))
            ])
        );
        let by_dept = filter(|f| {
            f.org = Some(OrgId(3));
            f.dept = Some(DeptId(4));
        });
        assert_eq!(
            candidates(&rao, &by_dept),
            Candidates::Indexed(vec![IdSource::Department(DeptId(4))])
        );
        let by_status = filter(|f| f.status = Some("revoked".into()));
        assert_eq!(
            candidates(&mrao, &by_status),
            Candidates::Indexed(vec![IdSource::Status(2)])
        );
        let unknown_status = filter(|f| f.status = Some("lost".into()));
        assert_eq!(
            candidates(&mrao, &unknown_status),
            Candidates::Indexed(Vec::new())
        );
        let by_profile = filter(|f| {
            f.status = Some("issued".into());
            f.profile = Some("tls-server".into());
        });
        assert_eq!(
            candidates(&mrao, &by_profile),
            Candidates::Indexed(vec![IdSource::Profile("tls-server".into())])
        );
    }
}
