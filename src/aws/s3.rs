//! S3 for the list bucket: objects (the list, the manifest) and the bucket
//! policy. I/O.
//!
//! Every call carries `ExpectedBucketOwner` (the README's "What guardsync puts in the bucket"): if the bucket name
//! ever belongs to someone else, S3 refuses the call instead of reading or
//! writing another account's bucket.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use aws_smithy_runtime_api::http::Response as HttpResponse;

use super::site::Site;
use crate::cloud::AwsError;

/// S3 as the administrator account, in the bucket's region.
#[derive(Clone)]
pub struct S3 {
    client: Client,
    site: Site,
}

impl S3 {
    /// A client from a configuration built by [`super::Aws::config_for`] in the
    /// bucket's region; `owner` is the administrator account (the caller and
    /// the expected bucket owner).
    pub fn new(conf: &aws_config::SdkConfig, owner: &str) -> Self {
        let mut b = aws_sdk_s3::config::Builder::from(conf);
        // A custom endpoint (the local emulator) serves buckets path-style:
        // `bucket.localhost` does not resolve.
        if conf.endpoint_url().is_some() {
            b = b.force_path_style(true);
        }
        S3 {
            client: Client::from_conf(b.interceptor(super::calls::counter(Some(owner))).build()),
            site: Site::of(conf, owner),
        }
    }

    fn owner(&self) -> &str {
        &self.site.account
    }

    /// An SDK error as an [`AwsError`] whose message starts with what the call
    /// touched (`s3://bucket/key`, or `s3://bucket` for the policy).
    fn err<E>(
        &self,
        err: &aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>,
        operation: &'static str,
        what: &str,
    ) -> AwsError
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut e = self.site.err(err, operation);
        e.message = match (&e.code, err.raw_response()) {
            // S3 answers HEAD (and some refusals) without a body, so without
            // an error code: the status is all there is to say.
            (None, Some(raw)) if err.as_service_error().is_some() => {
                format!(
                    "{what}: HTTP {} without an error code",
                    raw.status().as_u16()
                )
            }
            _ => format!("{what}: {}", e.message),
        };
        e
    }

    /// An error that did not come from the SDK's call itself (reading the
    /// body, a bad argument), at this site.
    fn local_err(&self, operation: &'static str, what: &str, message: String) -> AwsError {
        AwsError {
            account: self.site.account.clone(),
            region: self.site.region.clone(),
            operation,
            code: None,
            message: format!("{what}: {message}"),
        }
    }

    /// The object's bytes, or `None` when there is no such key.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, AwsError> {
        Ok(self
            .get_with_etag(bucket, key)
            .await?
            .map(|(bytes, _)| bytes))
    }

    /// Whether the object exists (HeadObject).
    pub async fn exists(&self, bucket: &str, key: &str) -> Result<bool, AwsError> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(self.owner())
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(self.err(&e, "HeadObject", &format!("s3://{bucket}/{key}"))),
        }
    }

    /// Write the object, with its SHA-256 so that S3 verifies the bytes it
    /// stores (`sha256_hex` is the lowercase hex digest of `body`).
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<(), AwsError> {
        let digest = hex::decode(sha256_hex)
            .ok()
            .filter(|d| d.len() == 32)
            .ok_or_else(|| {
                self.local_err(
                    "PutObject",
                    &format!("s3://{bucket}/{key}"),
                    format!("{sha256_hex:?} is not a hex SHA-256"),
                )
            })?;
        // A checksum set by the caller replaces the SDK's default CRC32, and
        // S3 rejects the upload if the bytes it received do not match it.
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(self.owner())
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(aws_smithy_types::base64::encode(digest))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.err(&e, "PutObject", &format!("s3://{bucket}/{key}")))?;
        Ok(())
    }

    /// The object's bytes and ETag, or `None` when there is no such key.
    pub(crate) async fn get_with_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(Vec<u8>, String)>, AwsError> {
        let what = format!("s3://{bucket}/{key}");
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(self.owner())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(self.err(&e, "GetObject", &what)),
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let body = out.body.collect().await.map_err(|e| {
            self.local_err(
                "GetObject",
                &what,
                format!(
                    "failed to read the body: {}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ),
            )
        })?;
        Ok(Some((body.into_bytes().to_vec(), etag)))
    }

    /// Write the object only if the condition holds: no object there yet
    /// (`None`: `If-None-Match: *`), or the object there has this ETag
    /// (`If-Match`). The new object's ETag, or `Ok(None)` when S3 refused it
    /// for the condition (412). An S3 conditional write is atomic: of two
    /// writers, one wins.
    pub(crate) async fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<Option<String>, AwsError> {
        let mut req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(self.owner())
            .content_type("application/json")
            .body(ByteStream::from(body));
        req = match if_match {
            None => req.if_none_match("*"),
            Some(etag) => req.if_match(etag),
        };
        match req.send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_owned())),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(None),
            Err(e) => Err(self.err(&e, "PutObject", &format!("s3://{bucket}/{key}"))),
        }
    }

    /// Delete the object (no error when it is already gone).
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), AwsError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(self.owner())
            .send()
            .await
            .map_err(|e| self.err(&e, "DeleteObject", &format!("s3://{bucket}/{key}")))?;
        Ok(())
    }

    /// Replace the object's tags with one tag `key=value` (PutObjectTagging).
    /// `Ok(false)` when there is no such object.
    pub(crate) async fn tag(
        &self,
        bucket: &str,
        key: &str,
        (tag, value): (&str, &str),
    ) -> Result<bool, AwsError> {
        let what = format!("s3://{bucket}/{key}");
        let tag = aws_sdk_s3::types::Tag::builder()
            .key(tag)
            .value(value)
            .build()
            .map_err(|e| self.local_err("PutObjectTagging", &what, e.to_string()))?;
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .tag_set(tag)
            .build()
            .map_err(|e| self.local_err("PutObjectTagging", &what, e.to_string()))?;
        match self
            .client
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(self.owner())
            .tagging(tagging)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
            Err(e) => Err(self.err(&e, "PutObjectTagging", &what)),
        }
    }

    /// The keys under `prefix`, in S3's order (ascending UTF-8), every page.
    pub(crate) async fn keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .expected_bucket_owner(self.owner())
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| self.err(&e, "ListObjectsV2", &format!("s3://{bucket}/{prefix}")))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    /// The bucket policy, or `None` when the bucket has none.
    pub async fn policy(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        match self
            .client
            .get_bucket_policy()
            .bucket(bucket)
            .expected_bucket_owner(self.owner())
            .send()
            .await
        {
            Ok(out) => Ok(out.policy),
            Err(e)
                if e.as_service_error()
                    .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                    == Some("NoSuchBucketPolicy") =>
            {
                Ok(None)
            }
            Err(e) => Err(self.err(&e, "GetBucketPolicy", &format!("s3://{bucket}"))),
        }
    }

    /// Replace the bucket policy with `policy` (JSON).
    pub async fn put_policy(&self, bucket: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .put_bucket_policy()
            .bucket(bucket)
            .expected_bucket_owner(self.owner())
            .policy(policy)
            .send()
            .await
            .map_err(|e| self.err(&e, "PutBucketPolicy", &format!("s3://{bucket}")))?;
        Ok(())
    }
}
