//! Offline commands: they open the data directory themselves, so they refuse
//! (without touching anything) while a running server holds its store.

use std::path::Path;

use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::csr::VerifiedCsr;
use ca_core::encoding::ExportFormat;
use ca_core::issuance::IssuanceRequest;
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::profile::DEFAULT_PROFILES_TOML;
use ca_core::revocation::RevocationReason;
use ca_core::serial::Serial;
use ca_core::service::{CaService, CaServiceConfig, CaServiceError, PROFILES_FILE};
use ca_core::store::StoreError;

use crate::cli::{CaCommand, CreateCaArgs, ImportCaArgs, InitArgs, IssueArgs, KeyArgs, RevokeArgs};
use crate::config::{GatewayConfig, CONFIG_FILE};
use crate::protection;

fn key_protection(keys: &KeyArgs) -> Result<KeyProtection, String> {
    protection::resolve(
        keys.passphrase_file.as_deref(),
        keys.insecure_plaintext_keys,
    )
}

/// Opens the CA service of a data directory for an offline command.
pub(crate) fn open_offline(
    data_dir: &Path,
    protection: KeyProtection,
) -> Result<CaService, String> {
    let config_path = data_dir.join(CONFIG_FILE);
    let gateway = if config_path.is_file() {
        GatewayConfig::load(&config_path)?
    } else {
        GatewayConfig::for_data_dir(data_dir)
    };
    let mut config = CaServiceConfig::new(data_dir, &gateway.http.base_url, protection);
    config.default_issuer = gateway.ca.default_issuer.clone();
    config.crl_validity = time::Duration::hours(gateway.ca.crl_validity_hours.into());
    config.ocsp_validity = time::Duration::hours(gateway.ca.ocsp_validity_hours.into());
    config.ocsp_signer = gateway.ca.ocsp_signer;
    CaService::open(&config).map_err(|e| match e {
        CaServiceError::Store(StoreError::Locked { .. }) => format!(
            "the data directory {} is in use by a running server; stop it first \
             (offline commands never write to a store another process holds)",
            data_dir.display()
        ),
        other => other.to_string(),
    })
}

fn parse_key(text: &str) -> Result<KeyAlgorithm, String> {
    text.parse()
}

fn parse_hash(text: &str) -> Result<SignatureHash, String> {
    text.parse()
}

/// `ca-admin init`.
pub fn init(args: &InitArgs) -> Result<(), String> {
    let protection = key_protection(&args.keys)?;
    let data_dir = &args.keys.data_dir;
    let directory = CaDirectory::new(data_dir);
    if !directory.ids().map_err(|e| e.to_string())?.is_empty() {
        return Err(format!(
            "{} already holds CAs; choose another --data-dir",
            data_dir.display()
        ));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let key_algorithm = parse_key(&args.key_type)?;
    let hash = parse_hash(&args.hash)?;
    if args.root_years == 0
        || args.issuing_years == 0
        || args.root_years > 50
        || args.issuing_years > 50
    {
        return Err("CA lifetimes must be between 1 and 50 years".into());
    }
    let with_place = |mut subject: CaSubject, cn: &Option<String>| {
        subject.locality = args.locality.clone();
        subject.state = args.state.clone();
        subject.country = args.country.clone();
        if let Some(cn) = cn {
            subject.common_name = cn.clone();
        }
        subject
    };
    if let Some(c) = &args.country {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
            return Err("--country must be two upper-case letters (ISO 3166)".into());
        }
    }
    let issuing = NewCa {
        id: args.issuing_id.clone(),
        subject: with_place(CaSubject::issuing_for(&args.name), &args.issuing_cn),
        key_algorithm,
        hash,
        validity_days: args.issuing_years * 365 + args.issuing_years / 4,
        path_len: Some(args.path_len),
        permitted_dns: args.permit_dns.clone(),
        excluded_dns: args.exclude_dns.clone(),
    };
    let urls = PublicationUrls::new(&args.base_url);
    if args.external_root {
        let csr = directory
            .create_external(&issuing, &protection)
            .map_err(|e| e.to_string())?;
        let path = data_dir.join(format!("{}.csr", args.issuing_id));
        std::fs::write(&path, &csr).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "Created issuing CA '{}' awaiting its certificate.",
            args.issuing_id
        );
        println!(
            "Have the external root sign {} (a CA certificate), then run:",
            path.display()
        );
        println!(
            "  ca-admin ca import --data-dir {} --id {} --cert signed.pem --chain root-chain.pem",
            data_dir.display(),
            args.issuing_id
        );
    } else {
        let root = NewCa {
            id: args.root_id.clone(),
            subject: with_place(CaSubject::root_for(&args.name), &args.root_cn),
            key_algorithm,
            hash,
            validity_days: args.root_years * 365 + args.root_years / 4,
            path_len: None,
            permitted_dns: Vec::new(),
            excluded_dns: Vec::new(),
        };
        directory
            .create_root(&root, &protection)
            .map_err(|e| e.to_string())?;
        directory
            .create_subordinate(&issuing, &args.root_id, &protection, Some(&urls))
            .map_err(|e| e.to_string())?;
        println!(
            "Created root CA '{}' and issuing CA '{}' in {}.",
            args.root_id,
            args.issuing_id,
            data_dir.display()
        );
    }
    write_default_profiles(data_dir)?;
    let mut config = GatewayConfig::for_data_dir(data_dir);
    config.http.base_url = args.base_url.clone();
    config.http.listen = args.http_listen;
    config.keys.insecure_plaintext_keys = matches!(protection, KeyProtection::InsecurePlaintext);
    config.keys.passphrase_file = args
        .keys
        .passphrase_file
        .as_ref()
        .map(|p| std::path::absolute(p).unwrap_or(p.clone()));
    config.ca.default_issuer = Some(args.issuing_id.clone());
    let path = config.write_into_data_dir()?;
    println!(
        "Wrote {} and {}.",
        path.display(),
        data_dir.join(PROFILES_FILE).display()
    );
    if matches!(protection, KeyProtection::InsecurePlaintext) {
        eprintln!("{}", protection::PLAINTEXT_WARNING);
    }
    Ok(())
}

/// Writes the shipped profiles for operators to edit, unless a profile file exists.
pub fn write_default_profiles(data_dir: &Path) -> Result<(), String> {
    let path = data_dir.join(PROFILES_FILE);
    if !path.exists() {
        std::fs::write(&path, DEFAULT_PROFILES_TOML)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `ca-admin issue`.
pub fn issue(args: &IssueArgs) -> Result<(), String> {
    let format: ExportFormat = args.format.parse()?;
    let csr_bytes = std::fs::read(&args.csr).map_err(|e| format!("{}: {e}", args.csr.display()))?;
    let csr = VerifiedCsr::parse(&csr_bytes).map_err(|e| e.to_string())?;
    let service = open_offline(&args.keys.data_dir, key_protection(&args.keys)?)?;
    let profile = service.profile(&args.profile).map_err(|e| e.to_string())?;
    let request = IssuanceRequest {
        csr: &csr,
        profile,
        names: None,
        term_days: args.term_days,
        owner_subject: Default::default(),
    };
    let record = service
        .issue(&request, &args.requester)
        .map_err(|e| e.to_string())?;
    let bytes = service.export(&record, format).map_err(|e| e.to_string())?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| e.to_string())?;
        }
    }
    eprintln!(
        "issued certificate id {} serial {} ({})",
        record.id, record.serial, record.subject
    );
    Ok(())
}

/// `ca-admin revoke`.
pub fn revoke(args: &RevokeArgs) -> Result<(), String> {
    let serial = Serial::from_hex(&args.serial)
        .ok_or_else(|| format!("'{}' is not a hex serial number", args.serial))?;
    let reason: RevocationReason = args.reason.parse()?;
    let service = open_offline(&args.keys.data_dir, key_protection(&args.keys)?)?;
    let record = service
        .revoke(&serial, reason, &args.message)
        .map_err(|e| e.to_string())?;
    println!(
        "revoked certificate id {} serial {} ({reason})",
        record.id, record.serial
    );
    Ok(())
}

/// `ca-admin ca ...`.
pub fn ca(command: &CaCommand) -> Result<(), String> {
    match command {
        CaCommand::List { connection } => crate::client::ca_list(connection),
        CaCommand::Create(args) => create_ca(args),
        CaCommand::Csr { data_dir, id } => {
            print!(
                "{}",
                CaDirectory::new(data_dir)
                    .pending_csr(id)
                    .map_err(|e| e.to_string())?
            );
            Ok(())
        }
        CaCommand::Import(args) => import_ca(args),
    }
}

fn create_ca(args: &CreateCaArgs) -> Result<(), String> {
    let protection = key_protection(&args.keys)?;
    let spec = NewCa {
        id: args.id.clone(),
        subject: CaSubject {
            common_name: args.cn.clone(),
            organization: args.organization.clone(),
            locality: None,
            state: None,
            country: args.country.clone(),
        },
        key_algorithm: parse_key(&args.key_type)?,
        hash: parse_hash(&args.hash)?,
        validity_days: args.days,
        path_len: args.path_len,
        permitted_dns: args.permit_dns.clone(),
        excluded_dns: args.exclude_dns.clone(),
    };
    CaDirectory::new(&args.keys.data_dir)
        .create_subordinate(
            &spec,
            &args.parent,
            &protection,
            Some(&PublicationUrls::new(&args.base_url)),
        )
        .map_err(|e| e.to_string())?;
    println!("created CA '{}' signed by '{}'", args.id, args.parent);
    Ok(())
}

fn import_ca(args: &ImportCaArgs) -> Result<(), String> {
    let protection = key_protection(&args.keys)?;
    let cert =
        std::fs::read_to_string(&args.cert).map_err(|e| format!("{}: {e}", args.cert.display()))?;
    let chain = std::fs::read_to_string(&args.chain)
        .map_err(|e| format!("{}: {e}", args.chain.display()))?;
    CaDirectory::new(&args.keys.data_dir)
        .import_certificate(&args.id, &cert, &chain, &protection)
        .map_err(|e| e.to_string())?;
    println!("imported the certificate of CA '{}'; it is active", args.id);
    Ok(())
}
