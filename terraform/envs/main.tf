# The one root of every streamscope environment: dev.tfvars and prod.tfvars
# hold what differs (terraform apply -var-file=prod.tfvars, see docs/deploy.md).

locals {
  name_prefix = "${var.project}-${var.environment}"

  tags = merge(var.extra_tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "kms" {
  source = "../modules/kms"

  name_prefix = local.name_prefix
}

module "network" {
  source = "../modules/network"

  name_prefix                 = local.name_prefix
  vpc_cidr                    = var.vpc_cidr
  az_count                    = var.az_count
  nat_gateway_mode            = var.nat_gateway_mode
  interface_endpoint_services = var.interface_endpoint_services
  flow_log_retention_days     = var.log_retention_days
  kms_key_arn                 = module.kms.key_arn
}

module "database" {
  source = "../modules/database"

  name_prefix                  = local.name_prefix
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.database_subnet_ids
  kms_key_arn                  = module.kms.key_arn
  engine_version               = var.db_engine_version
  instance_class               = var.db_instance_class
  allocated_storage_gb         = var.db_allocated_storage_gb
  max_allocated_storage_gb     = var.db_max_allocated_storage_gb
  multi_az                     = var.db_multi_az
  backup_retention_days        = var.db_backup_retention_days
  deletion_protection          = var.db_deletion_protection
  skip_final_snapshot          = var.db_skip_final_snapshot
  performance_insights_enabled = var.db_performance_insights_enabled
  log_retention_days           = var.log_retention_days
}

module "registry" {
  source = "../modules/registry"

  name_prefix = local.name_prefix
  kms_key_arn = module.kms.key_arn
}

module "frontend" {
  source = "../modules/frontend"

  name_prefix         = local.name_prefix
  price_class         = var.web_price_class
  aliases             = var.web_aliases
  acm_certificate_arn = var.web_acm_certificate_arn
  web_acl_arn         = var.web_acl_arn
  access_logs         = var.web_access_logs
  force_destroy       = var.web_force_destroy
}

module "api" {
  source = "../modules/api"

  name_prefix                 = local.name_prefix
  vpc_id                      = module.network.vpc_id
  subnet_ids                  = module.network.private_subnet_ids
  endpoints_security_group_id = module.network.endpoints_security_group_id
  database_security_group_id  = module.database.security_group_id
  database_address            = module.database.address
  database_port               = module.database.port
  database_name               = module.database.database_name
  database_username           = module.database.master_username
  database_secret_arn         = module.database.master_user_secret_arn
  kms_key_arn                 = module.kms.key_arn
  image_repository_url        = module.registry.repository_urls["api"]
  image_tag                   = var.api_image_tag
  memory_mb                   = var.api_memory_mb
  reserved_concurrency        = var.api_reserved_concurrency
  cors_origins                = concat([module.frontend.url], var.api_extra_cors_origins)
  log_retention_days          = var.log_retention_days
}

module "pipeline" {
  source = "../modules/pipeline"

  name_prefix                = local.name_prefix
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  database_security_group_id = module.database.security_group_id
  database_address           = module.database.address
  database_port              = module.database.port
  database_name              = module.database.database_name
  database_username          = module.database.master_username
  database_secret_arn        = module.database.master_user_secret_arn
  kms_key_arn                = module.kms.key_arn
  image_repository_url       = module.registry.repository_urls["pipeline"]
  mirror_repository_urls = {
    pulsar           = module.registry.repository_urls["pulsar"]
    cloudwatch-agent = module.registry.repository_urls["cloudwatch-agent"]
  }
  image_tag                = var.pipeline_image_tag
  service_sizes            = var.service_sizes
  detector_launch_type     = var.detector_launch_type
  detector_device          = var.detector_device
  gpu_instance_type        = var.gpu_instance_type
  gpu_max_instances        = var.gpu_max_instances
  pulsar_mode              = var.pulsar_mode
  pulsar_url               = var.pulsar_url
  pulsar_egress_cidrs      = var.pulsar_egress_cidrs
  metrics_scraper_cidrs    = var.metrics_scraper_cidrs
  airflow_ui_allowed_cidrs = var.airflow_ui_allowed_cidrs
  stream_egress_ports      = var.stream_egress_ports
  log_retention_days       = var.log_retention_days
}

module "monitoring" {
  source = "../modules/monitoring"

  name_prefix              = local.name_prefix
  kms_key_arn              = module.kms.key_arn
  alarm_emails             = var.alarm_emails
  api_id                   = module.api.api_id
  api_stage                = module.api.stage_name
  api_function_name        = module.api.function_name
  api_5xx_threshold        = var.api_5xx_threshold
  database_instance_id     = module.database.instance_id
  cluster_name             = module.pipeline.cluster_name
  pipeline_services        = module.pipeline.service_names
  backlog_metric_namespace = module.pipeline.metrics_namespace
  backlog_topics           = var.backlog_topics
  backlog_threshold        = var.backlog_threshold
  backlog_missing_data     = var.pulsar_mode == "self_managed" ? "breaching" : "notBreaching"
}
