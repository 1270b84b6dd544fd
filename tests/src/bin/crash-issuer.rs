//! Issues certificates from several threads into a data directory and prints
//! "<id> <serial>" for each as soon as `CaService::issue` has returned. The
//! crash test kills this process with SIGKILL and checks that every printed
//! certificate survived.
//!
//! Usage: crash-issuer <data-dir> <threads>

use std::io::Write;
use std::sync::Arc;

use ca_core::csr::VerifiedCsr;
use ca_core::issuance::IssuanceRequest;
use ca_core::keys::KeyProtection;
use ca_core::service::{CaService, CaServiceConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let data_dir = std::path::PathBuf::from(args.next().expect("data dir"));
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(4);
    let config = CaServiceConfig::new(
        &data_dir,
        "http://127.0.0.1:8080",
        KeyProtection::InsecurePlaintext,
    );
    let service = Arc::new(CaService::open(&config).expect("open the data directory"));
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let csr = rcgen::CertificateParams::new(vec!["crash.test".to_string()])
        .expect("params")
        .serialize_request(&key)
        .expect("csr");
    let csr = Arc::new(VerifiedCsr::from_der(csr.der()).expect("valid CSR"));
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    println!("ready");
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let service = service.clone();
            let csr = csr.clone();
            let stdout = stdout.clone();
            std::thread::spawn(move || loop {
                let profile = service.profile("tls-server").expect("profile");
                let request = IssuanceRequest {
                    csr: &csr,
                    profile,
                    names: None,
                    term_days: None,
                    owner_subject: Default::default(),
                };
                let record = service.issue(&request, "crash-test").expect("issue");
                let mut out = stdout.lock().unwrap();
                let _ = writeln!(out, "{} {}", record.id, record.serial);
                let _ = out.flush();
            })
        })
        .collect();
    for handle in handles {
        let _ = handle.join();
    }
}
