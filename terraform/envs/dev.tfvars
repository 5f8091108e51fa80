# dev: small, cheap, easy to tear down. No secrets and no account ids here:
# image tags are passed at deploy time (-var api_image_tag=... -var pipeline_image_tag=...).
region      = "eu-west-1"
environment = "dev"

vpc_cidr                    = "10.40.0.0/16"
az_count                    = 2
nat_gateway_mode            = "single"
interface_endpoint_services = ["secretsmanager"]

db_instance_class               = "db.t4g.micro"
db_allocated_storage_gb         = 20
db_max_allocated_storage_gb     = 50
db_multi_az                     = false
db_backup_retention_days        = 3
db_deletion_protection          = false
db_skip_final_snapshot          = true
db_performance_insights_enabled = false

api_memory_mb            = 512
api_reserved_concurrency = 5
api_extra_cors_origins   = ["http://localhost:5173"]

web_price_class   = "PriceClass_100"
web_access_logs   = false
web_force_destroy = true

service_sizes = {
  detector   = { cpu = 2048, memory = 4096, desired_count = 1 }
  aggregator = { cpu = 256, memory = 512, desired_count = 1 }
  airflow    = { cpu = 1024, memory = 4096, desired_count = 1 }
}
detector_launch_type = "FARGATE"
detector_device      = "cpu"
pulsar_mode          = "self_managed"

log_retention_days = 14
backlog_threshold  = 2000
alarm_emails       = []
