//! `alertmanager.yml` (Alertmanager's `config` package).
