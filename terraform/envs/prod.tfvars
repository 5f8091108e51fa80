# prod: redundant database, deletion protection, GPU detector, longer logs.
# No secrets and no account ids here: image tags are passed at deploy time,
# the API tokens are put into Secrets Manager (see docs/deploy.md).
region      = "eu-west-1"
environment = "prod"

vpc_cidr                    = "10.41.0.0/16"
az_count                    = 3
nat_gateway_mode            = "per_az"
interface_endpoint_services = ["secretsmanager", "ecr.api", "ecr.dkr", "logs"]

db_instance_class               = "db.m7g.large"
db_allocated_storage_gb         = 100
db_max_allocated_storage_gb     = 500
db_multi_az                     = true
db_backup_retention_days        = 14
db_deletion_protection          = true
db_skip_final_snapshot          = false
db_performance_insights_enabled = true

api_memory_mb            = 1024
api_reserved_concurrency = 50

web_price_class   = "PriceClass_100"
web_access_logs   = true
web_force_destroy = false
# With a domain: web_aliases = ["streamscope.example.org"] and
# web_acm_certificate_arn / web_acl_arn from your account (not committed here).

service_sizes = {
  detector   = { cpu = 2048, memory = 12288, desired_count = 2 }
  aggregator = { cpu = 1024, memory = 2048, desired_count = 2 }
  airflow    = { cpu = 2048, memory = 8192, desired_count = 1 }
}
detector_launch_type = "EC2_GPU"
detector_device      = "cuda:0"
gpu_instance_type    = "g4dn.xlarge"
gpu_max_instances    = 2
pulsar_mode          = "self_managed"

log_retention_days = 90
backlog_threshold  = 10000
alarm_emails       = []
