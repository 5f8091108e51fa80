# The web UI (frontend/dist): a private S3 bucket that only this CloudFront
# distribution can read, through origin access control (SigV4). No public bucket
# policy, no website endpoint.

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_response_headers_policy" "security" {
  name = "Managed-SecurityHeadersPolicy"
}

locals {
  bucket_name = "${var.name_prefix}-web-${random_id.suffix.hex}"
}

# Bucket names are global: a random suffix avoids collisions without account ids.
resource "random_id" "suffix" {
  byte_length = 4
}

# --- Site bucket -------------------------------------------------------------------

resource "aws_s3_bucket" "site" {
  #checkov:skip=CKV_AWS_145:The files are the public web UI served by CloudFront; SSE-S3 avoids granting CloudFront use of the environment KMS key, which protects real data.
  #checkov:skip=CKV_AWS_144:Build output is reproducible from git (make frontend); cross-region replication would only double the cost.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events; deployments invalidate CloudFront explicitly.
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_logging" "site" {
  count         = var.access_logs ? 1 : 0
  bucket        = aws_s3_bucket.site.id
  target_bucket = aws_s3_bucket.logs[0].id
  target_prefix = "s3/"
}

data "aws_iam_policy_document" "site" {
  statement {
    sid       = "CloudFrontReadOnly"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site.json

  depends_on = [aws_s3_bucket_public_access_block.site]
}

# --- Log bucket (CloudFront standard logs need ACLs) --------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:CloudFront standard logging cannot write to SSE-KMS buckets; SSE-S3 is the supported option.
  #checkov:skip=CKV_AWS_144:Access logs are operational data with a short retention; no cross-region copy needed.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the access-log bucket.
  #checkov:skip=CKV_AWS_21:Log objects are written once and expire; versioning would only keep deleted logs around.
  count         = var.access_logs ? 1 : 0
  bucket        = "${local.bucket_name}-logs"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "logs" {
  count                   = var.access_logs ? 1 : 0
  bucket                  = aws_s3_bucket.logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging delivers log files with ACLs, so the log bucket (and only it) keeps ACLs enabled; public access stays blocked.
  count  = var.access_logs ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id

  rule {
    # CloudFront standard logging writes with ACLs.
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  count  = var.access_logs ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  count  = var.access_logs ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# --- CloudFront ------------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = "${var.name_prefix}-web"
  description                       = "streamscope web UI bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_374:The web UI is meant for viewers anywhere; there is no country to block.
  #checkov:skip=CKV_AWS_310:A single S3 origin in one region; a failover origin group would need a replicated bucket for a static UI that can be re-deployed from git.
  #checkov:skip=CKV2_AWS_47:The WAF is optional (web_acl_arn; a web ACL costs about 5 USD per month plus rules); the site is static and no server-side code runs behind this distribution.
  #checkov:skip=CKV2_AWS_42:A custom certificate is used when aliases and acm_certificate_arn are set; without a domain the default *.cloudfront.net certificate is the only option.
  #checkov:skip=CKV_AWS_174:With the default *.cloudfront.net certificate CloudFront fixes the minimum protocol itself; with a custom certificate TLSv1.2_2021 is set below.
  enabled             = true
  is_ipv6_enabled     = true
  comment             = "${var.name_prefix} web UI"
  default_root_object = "index.html"
  price_class         = var.price_class
  aliases             = var.aliases
  web_acl_id          = var.web_acl_arn == "" ? null : var.web_acl_arn
  http_version        = "http2and3"
  tags                = var.tags

  origin {
    origin_id                = "site"
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  # Single-page app: unknown paths render index.html, the client router takes over.
  custom_error_response {
    error_code            = 403
    response_code         = 200
    response_page_path    = "/index.html"
    error_caching_min_ttl = 10
  }

  custom_error_response {
    error_code            = 404
    response_code         = 200
    response_page_path    = "/index.html"
    error_caching_min_ttl = 10
  }

  dynamic "logging_config" {
    for_each = var.access_logs ? [1] : []
    content {
      bucket          = aws_s3_bucket.logs[0].bucket_domain_name
      prefix          = "cloudfront/"
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.acm_certificate_arn == ""
    acm_certificate_arn            = var.acm_certificate_arn == "" ? null : var.acm_certificate_arn
    ssl_support_method             = var.acm_certificate_arn == "" ? null : "sni-only"
    minimum_protocol_version       = var.acm_certificate_arn == "" ? "TLSv1" : "TLSv1.2_2021"
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}
