output "bucket_name" {
  description = "Private bucket to upload frontend/dist into (aws s3 sync)."
  value       = aws_s3_bucket.site.id
}

output "distribution_id" {
  description = "CloudFront distribution id (for cache invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "CloudFront distribution ARN."
  value       = aws_cloudfront_distribution.this.arn
}

output "domain_name" {
  description = "Host name of the web UI (the first alias, or the *.cloudfront.net name)."
  value       = length(var.aliases) > 0 ? var.aliases[0] : aws_cloudfront_distribution.this.domain_name
}

output "url" {
  description = "https URL of the web UI."
  value       = "https://${length(var.aliases) > 0 ? var.aliases[0] : aws_cloudfront_distribution.this.domain_name}"
}
