//! `guardsync report --html OUT`: read a JSON report or the last run record
//! in the bucket, render it with [`crate::report::html`], write the page.
//! Does I/O.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cli::ReportArgs;
use crate::config::RegionScope;
use crate::error::{Error, ExitCode};
use crate::publish::record::RunRecord;
use crate::report::Mode;
use crate::report::html::{self, View, When};

/// Run `guardsync report`.
pub async fn command(args: &ReportArgs) -> Result<ExitCode, Error> {
    let now = unix(SystemTime::now());
    let view = match (&args.from, &args.config) {
        (Some(from), _) => from_file(from, now)?,
        (None, Some(config)) => from_bucket(config, now).await?,
        (None, None) => return Err(Error::NoReportInput),
    };
    let page = html::render(&view);
    write(&args.html, page.as_bytes())?;
    let accounts: std::collections::HashSet<&str> =
        view.targets.iter().map(|t| t.account_id.as_str()).collect();
    eprintln!(
        "wrote {} ({} KB): {} targets in {} accounts and {} Regions, from {}",
        args.html.display(),
        page.len().div_ceil(1024),
        view.targets.len(),
        accounts.len(),
        view.regions.len(),
        view.source
    );
    Ok(ExitCode::Success)
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `--from FILE`: a JSON report, or a run record someone downloaded.
fn from_file(path: &Path, now: i64) -> Result<View, Error> {
    let read_error = |source| Error::File {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let (bytes, when, source) = if is_stdio(path) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        (bytes, When::Unknown, "the JSON report on stdin".to_owned())
    } else {
        let bytes = std::fs::read(path).map_err(read_error)?;
        let when = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_or(When::Unknown, |t| When::FileWritten(unix(t)));
        (bytes, when, format!("the JSON report {}", path.display()))
    };
    match View::from_json(&bytes, source, when, now) {
        Ok(v) => Ok(v),
        Err(problem) => match serde_json::from_slice::<RunRecord>(&bytes) {
            Ok(record) => view_of_record(
                &record,
                format!("the run record {}", path.display()),
                None,
                &[],
                now,
            )
            .map_err(|problem| Error::NotAReport {
                path: path.to_owned(),
                problem,
            }),
            Err(_) => Err(Error::NotAReport {
                path: path.to_owned(),
                problem,
            }),
        },
    }
}

/// `--config FILE`: the last run record in the configuration's bucket.
async fn from_bucket(path: &Path, now: i64) -> Result<View, Error> {
    let c = crate::config::load(path)?;
    let aws = crate::aws::Aws::load(c.retry_max_attempts).await;
    aws.check_credentials()
        .await
        .map_err(Error::NoCredentials)?;
    let s3 = crate::aws::s3::S3::new(
        &aws.config_for(c.bucket.region.as_str(), None),
        c.admin_account.as_str(),
    );
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());
    let location = crate::publish::s3_url(bucket, &crate::publish::record::key(prefix));
    let Some(record) = crate::publish::record::read(&s3, bucket, prefix).await? else {
        return Err(Error::NothingToReport {
            location,
            config: path.to_owned(),
        });
    };
    let regions: Vec<String> = match &c.regions {
        RegionScope::List(list) => list.iter().map(|r| r.as_str().to_owned()).collect(),
        RegionScope::Enabled => Vec::new(),
    };
    view_of_record(
        &record,
        format!("the run record {location}"),
        Some(bucket),
        &regions,
        now,
    )
    .map_err(|problem| {
        Error::Publish(crate::publish::PublishError::CorruptRecord { location, problem })
    })
}

/// The view of a run record: an apply, its time, its list and its targets;
/// no names, notes or organization id (the record does not keep them).
/// `regions` is the configured order; Regions of the record beyond it
/// follow in the order they first appear.
fn view_of_record(
    r: &RunRecord,
    source: String,
    bucket: Option<&str>,
    regions: &[String],
    now: i64,
) -> Result<View, String> {
    let mut order: Vec<String> = regions.to_vec();
    let mut targets = Vec::with_capacity(r.targets.len());
    for (i, t) in r.targets.iter().enumerate() {
        if !order.contains(&t.region) {
            order.push(t.region.clone());
        }
        targets.push(html::Target {
            account_id: t.account_id.clone(),
            region: t.region.clone(),
            placement: html::placement(&t.placement).ok_or_else(|| {
                format!(
                    "targets[{i}].placement: unknown placement `{}`",
                    t.placement
                )
            })?,
            status: html::status(&t.status)
                .ok_or_else(|| format!("targets[{i}].status: unknown status `{}`", t.status))?,
            error: t.error.clone(),
            not_run: t.not_run,
            note: None,
        });
    }
    // Only the Regions that have targets: the configuration may list
    // Regions the recorded run did not cover (a run narrowed by --region
    // records the whole organization all the same).
    order.retain(|r| targets.iter().any(|t| &t.region == r));
    Ok(View {
        source,
        mode: Mode::Apply,
        when: html::parse_utc(&r.finished_at).map_or(When::Unknown, When::Finished),
        now,
        organization_id: None,
        more_lists: r
            .lists
            .iter()
            .skip(1)
            .map(|l| (format!("List {:?}", l.name), l))
            .chain(
                r.trusted
                    .iter()
                    .map(|l| (format!("Trusted list {:?}", l.name), l)),
            )
            .map(|(label, l)| {
                (
                    label,
                    html::List {
                        sha256: l.sha256.clone(),
                        entries: l.entries,
                        addresses: l.addresses,
                        location: match bucket {
                            Some(b) => crate::publish::s3_url(b, &l.key),
                            None => l.key.clone(),
                        },
                        changed: None,
                    },
                )
            })
            .collect(),
        list: html::List {
            sha256: r.list.sha256.clone(),
            entries: r.list.entries,
            addresses: r.list.addresses,
            location: match bucket {
                Some(b) => crate::publish::s3_url(b, &r.list.key),
                None => r.list.key.clone(),
            },
            changed: None,
        },
        regions: order,
        targets,
        names: std::collections::HashMap::new(),
        names_known: false,
        warnings: Vec::new(),
        retry_of: None,
        calls: None,
    })
}

/// Write the page to `path` ('-': stdout).
fn write(path: &Path, page: &[u8]) -> Result<(), Error> {
    let error = |source| Error::File {
        action: "write",
        path: path.to_owned(),
        source,
    };
    if is_stdio(path) {
        let mut out = std::io::stdout().lock();
        out.write_all(page)
            .and_then(|()| out.flush())
            .map_err(error)
    } else {
        std::fs::write(path, page).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::record::{RecordList, RecordTarget};

    fn target(account: &str, region: &str, placement: &str, status: &str) -> RecordTarget {
        RecordTarget {
            account_id: account.into(),
            region: region.into(),
            placement: placement.into(),
            wave: 1,
            status: status.into(),
            error: (status == "failed").then(|| "AccessDenied".to_owned()),
            not_run: false,
        }
    }

    fn record() -> RunRecord {
        RunRecord {
            format: 1,
            generator: "guardsync test".into(),
            finished_at: "2026-11-30T08:00:00Z".into(),
            list: RecordList {
                sha256: "ab".into(),
                key: "guardduty/lists/x.txt".into(),
                entries: 3,
                addresses: 9,
                ..Default::default()
            },
            lists: Vec::new(),
            trusted: None,
            targets: vec![
                target("111111111111", "eu-west-1", "admin", "changed"),
                target("111111111111", "us-east-1", "admin", "unchanged"),
                target("222222222222", "eu-west-1", "standalone", "failed"),
                target("222222222222", "us-east-1", "member", "unchanged"),
            ],
        }
    }

    #[test]
    fn a_record_is_an_apply_in_the_configured_region_order() {
        let regions = [
            "us-east-1".to_owned(),
            "eu-west-1".to_owned(),
            "ap-east-1".to_owned(),
        ];
        let v = view_of_record(&record(), "r".into(), Some("b"), &regions, 0).expect("view");
        assert_eq!(v.mode, Mode::Apply);
        assert_eq!(v.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(v.when, When::Finished(1_796_025_600));
        assert_eq!(v.list.location, "s3://b/guardduty/lists/x.txt");
        assert!(!v.names_known);
        assert_eq!(v.targets[2].error.as_deref(), Some("AccessDenied"));
        // Without a configuration: the order the record names them in.
        let v = view_of_record(&record(), "r".into(), None, &[], 0).expect("view");
        assert_eq!(v.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(v.list.location, "guardduty/lists/x.txt");
    }

    #[test]
    fn an_unknown_status_names_the_target() {
        let mut r = record();
        r.targets[1].status = "sideways".into();
        let e = view_of_record(&r, "r".into(), None, &[], 0).expect_err("bad");
        assert_eq!(e, "targets[1].status: unknown status `sideways`");
    }
}
