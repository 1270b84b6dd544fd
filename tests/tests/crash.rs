//! The crash test: a process issuing certificates from several threads is
//! killed with SIGKILL right after `CaService::issue` calls return, three times
//! against the same data directory. Every certificate it reported issued must
//! be in the store after each restart, no serial may appear twice, and the
//! store must still open and accept writes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::IssuanceRequest;
use ca_core::keys::KeyProtection;
use ca_core::serial::Serial;
use ca_core::service::{CaService, CaServiceConfig};
use certwright_tests::must;

const ADMIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");
const ISSUER: &str = env!("CARGO_BIN_EXE_crash-issuer");

/// Issuing threads in the crash-issuer.
const THREADS: &str = "8";
/// Kill cycles against the same data directory.
const CYCLES: usize = 3;
/// Reported certificates to wait for before each kill.
const REPORTS_BEFORE_KILL: usize = 300;
/// How long one cycle may take before the test fails instead of hanging.
const CYCLE_DEADLINE: Duration = Duration::from_secs(40);

/// One "<id> <serial>" line the crash-issuer printed after `issue` returned.
#[derive(Debug, Clone)]
struct Reported {
    id: u64,
    serial: Serial,
    cycle: usize,
}

/// Kills and reaps the child if the test panics while it runs.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn service_config(dir: &Path) -> CaServiceConfig {
    CaServiceConfig::new(
        dir,
        "http://127.0.0.1:8080",
        KeyProtection::InsecurePlaintext,
    )
}

fn parse_report(line: &str, cycle: usize) -> Reported {
    let mut parts = line.split(' ');
    let (Some(id), Some(serial), None) = (parts.next(), parts.next(), parts.next()) else {
        panic!("cycle {cycle}: unexpected line from the crash-issuer: {line:?}");
    };
    Reported {
        id: id
            .parse()
            .unwrap_or_else(|_| panic!("cycle {cycle}: bad id in {line:?}")),
        serial: Serial::from_hex(serial)
            .unwrap_or_else(|| panic!("cycle {cycle}: bad serial in {line:?}")),
        cycle,
    }
}

/// Runs the crash-issuer until it has reported `REPORTS_BEFORE_KILL`
/// certificates, SIGKILLs it while it is still issuing, and returns every line
/// it had written before it died.
fn run_and_kill(dir: &Path, stderr_path: &Path, cycle: usize) -> Vec<Reported> {
    let stderr = std::fs::File::create(stderr_path).expect("create the stderr file");
    let child = Command::new(ISSUER)
        .arg(dir)
        .arg(THREADS)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("start the crash-issuer");
    let mut guard = KillOnDrop(Some(child));
    let child = guard.0.as_mut().unwrap();
    let stdout = child.stdout.take().expect("stdout");
    let stderr_text = || std::fs::read_to_string(stderr_path).unwrap_or_default();

    // Only newline-terminated lines count: a line cut short by the kill was never fully written.
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || -> Option<String> {
        let mut stdout = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match stdout.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) if line.ends_with('\n') => {
                    line.pop();
                    if tx.send(line).is_err() {
                        return None;
                    }
                }
                Ok(_) => return Some(line),
                Err(e) => return Some(format!("<read error: {e}>")),
            }
        }
    });

    let deadline = Instant::now() + CYCLE_DEADLINE;
    let next_line = |what: &str| -> String {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!(
                "cycle {cycle}: no {what} within {CYCLE_DEADLINE:?}; stderr:\n{}",
                stderr_text()
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "cycle {cycle}: the crash-issuer closed its output before {what}; stderr:\n{}",
                stderr_text()
            ),
        }
    };

    let first = next_line("\"ready\" line");
    assert_eq!(
        first,
        "ready",
        "cycle {cycle}: the crash-issuer did not open the data directory; stderr:\n{}",
        stderr_text()
    );
    let mut reported = Vec::new();
    while reported.len() < REPORTS_BEFORE_KILL {
        let line = next_line("report");
        reported.push(parse_report(&line, cycle));
    }

    // It must still be issuing when it is killed (not exited or panicked on its own).
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "cycle {cycle}: the crash-issuer stopped by itself; stderr:\n{}",
        stderr_text()
    );
    child.kill().expect("SIGKILL the crash-issuer");
    let status = child.wait().expect("wait for the crash-issuer");
    assert_eq!(
        status.signal(),
        Some(9),
        "cycle {cycle}: the crash-issuer did not die of SIGKILL: {status:?}"
    );
    guard.0 = None;

    // Whatever reached the pipe before the kill was reported, so it counts too.
    let before_kill = reported.len();
    for line in rx.iter() {
        reported.push(parse_report(&line, cycle));
    }
    let partial = reader.join().expect("the reader thread");
    eprintln!(
        "cycle {cycle}: {before_kill} reports before the kill, {} more drained from the pipe{}",
        reported.len() - before_kill,
        match &partial {
            Some(p) => format!(", and an unterminated last line {p:?} (not counted)"),
            None => String::new(),
        }
    );
    reported
}

/// Reads one DER TLV at `pos`: (tag, start of contents, end of contents).
fn tlv(der: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *der.get(pos)?;
    let first = *der.get(pos + 1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *der.get(pos + 2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let start = pos + header;
    let end = start.checked_add(len)?;
    (end <= der.len()).then_some((tag, start, end))
}

/// The serial number inside a DER certificate (Certificate → tbsCertificate → [0] version, serialNumber).
fn certificate_serial(der: &[u8]) -> Option<Serial> {
    let (tag, start, end) = tlv(der, 0)?;
    if tag != 0x30 || end != der.len() {
        return None;
    }
    let (tag, tbs, _) = tlv(der, start)?;
    if tag != 0x30 {
        return None;
    }
    let mut pos = tbs;
    let (tag, _, version_end) = tlv(der, pos)?;
    if tag == 0xa0 {
        pos = version_end;
    }
    let (tag, s, e) = tlv(der, pos)?;
    (tag == 0x02).then(|| Serial::from_bytes(&der[s..e]))
}

/// Checks the store after a crash: every reported certificate is there with
/// its id, serial and status; no serial or id appears twice; indexes agree.
/// Returns every record.
fn check_store(
    service: &CaService,
    reported: &[Reported],
    after_cycle: usize,
) -> Vec<CertificateRecord> {
    let certificates = service.certificates();
    for r in reported {
        let record = certificates
            .by_serial(&r.serial)
            .expect("look up a serial")
            .unwrap_or_else(|| {
                panic!(
                    "after cycle {after_cycle}: certificate id {} serial {} reported issued in cycle {} is not in the store",
                    r.id, r.serial, r.cycle
                )
            });
        assert_eq!(
            record.id, r.id,
            "serial {} is stored under another id",
            r.serial
        );
        assert_eq!(record.serial, r.serial);
        assert_eq!(
            record.status,
            CertificateStatus::Issued,
            "serial {}",
            r.serial
        );
        assert_eq!(record.requester, "crash-test");
        assert_eq!(record.profile, "tls-server");
        assert_eq!(
            certificate_serial(&record.der).as_ref(),
            Some(&r.serial),
            "the stored DER of serial {} is not a certificate with that serial",
            r.serial
        );
        let by_id = certificates.get(r.id).expect("look up an id");
        assert_eq!(
            by_id.as_ref(),
            Some(&record),
            "id {} and serial {} disagree",
            r.id,
            r.serial
        );
    }

    let records = certificates
        .list(0, usize::MAX)
        .expect("list the certificates");
    let mut serials = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for record in &records {
        if let Some(other) = serials.insert(record.serial.clone(), record.id) {
            panic!(
                "after cycle {after_cycle}: serial {} appears twice (ids {other} and {})",
                record.serial, record.id
            );
        }
        assert!(
            ids.insert(record.id),
            "after cycle {after_cycle}: id {} appears twice",
            record.id
        );
        assert_eq!(
            certificate_serial(&record.der).as_ref(),
            Some(&record.serial),
            "record {}: its DER does not carry its serial",
            record.id
        );
        let indexed = certificates
            .by_serial(&record.serial)
            .expect("look up a serial");
        assert_eq!(
            indexed.map(|r| r.id),
            Some(record.id),
            "the serial index does not point at record {}",
            record.id
        );
    }
    assert!(
        records.len() >= reported.len(),
        "after cycle {after_cycle}: {} records but {} reported issued",
        records.len(),
        reported.len()
    );
    let issued = certificates
        .ids_with_status(CertificateStatus::Issued.code(), usize::MAX)
        .expect("scan the status index");
    assert_eq!(
        issued.into_iter().collect::<BTreeSet<_>>(),
        ids,
        "after cycle {after_cycle}: the status index disagrees with the records"
    );
    records
}

/// Verifies certificates' signatures and chains with `openssl verify`.
fn openssl_verify(service: &CaService, work: &Path, records: &[&CertificateRecord]) {
    let dir = work.join("verify");
    std::fs::create_dir_all(&dir).unwrap();
    let mut untrusted = String::new();
    let mut roots = String::new();
    for ca in service.cas() {
        let pem = ca_core::encoding::pem("CERTIFICATE", ca.certificate_der());
        if ca.is_root() {
            roots.push_str(&pem);
        } else {
            untrusted.push_str(&pem);
        }
    }
    std::fs::write(dir.join("roots.pem"), roots).unwrap();
    std::fs::write(dir.join("untrusted.pem"), untrusted).unwrap();
    let mut files: Vec<String> = Vec::new();
    for record in records {
        let name = format!("{}.pem", record.id);
        std::fs::write(
            dir.join(&name),
            ca_core::encoding::pem("CERTIFICATE", &record.der),
        )
        .unwrap();
        files.push(name);
    }
    for chunk in files.chunks(500) {
        let mut args = vec![
            "verify",
            "-CAfile",
            "roots.pem",
            "-untrusted",
            "untrusted.pem",
        ];
        args.extend(chunk.iter().map(String::as_str));
        let run = must(&dir, "openssl", &args);
        let ok = run.stdout.lines().filter(|l| l.ends_with(": OK")).count();
        assert_eq!(
            ok,
            chunk.len(),
            "openssl verify:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn every_reported_certificate_survives_sigkill() {
    let started = Instant::now();
    let work = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = work.path().join("data");
    let dir_text = dir.to_str().expect("a UTF-8 path");
    must(
        work.path(),
        ADMIN,
        &[
            "init",
            "--data-dir",
            dir_text,
            "--name",
            "Crash Test",
            "--insecure-plaintext-keys",
        ],
    );

    let mut reported: Vec<Reported> = Vec::new();
    let mut records_after = Vec::new();
    for cycle in 1..=CYCLES {
        let stderr_path = work.path().join(format!("crash-issuer-{cycle}.stderr"));
        let this_cycle = run_and_kill(&dir, &stderr_path, cycle);
        assert!(this_cycle.len() >= REPORTS_BEFORE_KILL);
        reported.extend(this_cycle);

        // What was reported must be unique: a serial or id reported twice is a double issuance.
        let mut serials = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for r in &reported {
            assert!(
                serials.insert(r.serial.clone()),
                "serial {} was reported twice",
                r.serial
            );
            assert!(
                ids.insert(r.id),
                "id {} was reported twice (cycle {})",
                r.id,
                r.cycle
            );
        }

        // Restart in-process and check before the next crash (the service is dropped, releasing the store).
        let service = CaService::open(&service_config(&dir))
            .unwrap_or_else(|e| panic!("reopen after the crash of cycle {cycle}: {e}"));
        let records = check_store(&service, &reported, cycle);
        eprintln!(
            "cycle {cycle}: {} reported so far, {} records in the store",
            reported.len(),
            records.len()
        );
        records_after.push(records.len());
    }
    assert!(
        records_after.windows(2).all(|w| w[0] < w[1]),
        "each cycle must add records: {records_after:?}"
    );

    // The final restart: everything is there, the certificates verify, and the store takes writes.
    let service = CaService::open(&service_config(&dir)).expect("open after the last crash");
    let records = check_store(&service, &reported, CYCLES);
    let reported_ids: BTreeSet<u64> = reported.iter().map(|r| r.id).collect();
    let reported_records: Vec<&CertificateRecord> = records
        .iter()
        .filter(|r| reported_ids.contains(&r.id))
        .collect();
    assert_eq!(reported_records.len(), reported.len());
    openssl_verify(&service, work.path(), &reported_records);

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let csr = rcgen::CertificateParams::new(vec!["after-crash.test".to_string()])
        .expect("params")
        .serialize_request(&key)
        .expect("csr");
    let csr = VerifiedCsr::from_der(csr.der()).expect("a valid CSR");
    let request = IssuanceRequest {
        csr: &csr,
        profile: service.profile("tls-server").expect("profile"),
        names: None,
        term_days: None,
        owner_subject: Default::default(),
    };
    let fresh = service
        .issue(&request, "after-crash")
        .expect("issue after the crashes");
    let highest = records.iter().map(|r| r.id).max().unwrap_or(0);
    assert!(
        fresh.id > highest,
        "the new id {} reuses a stored id (highest {highest})",
        fresh.id
    );
    assert!(
        records.iter().all(|r| r.serial != fresh.serial),
        "the new serial is already stored"
    );
    drop(service);

    // And that write is durable across one more (clean) restart.
    let service = CaService::open(&service_config(&dir)).expect("reopen after the last write");
    let stored = service
        .certificates()
        .by_serial(&fresh.serial)
        .expect("look up")
        .expect("the certificate issued after the crashes is stored");
    assert_eq!(stored, fresh);
    let all = service.certificates().list(0, usize::MAX).expect("list");
    assert_eq!(all.len(), records.len() + 1);
    eprintln!(
        "{} certificates reported over {CYCLES} kills, {} stored; {:?}",
        reported.len(),
        all.len(),
        started.elapsed()
    );
}
