// Logging of the SIP layer: one key=value line per event (STYLE.md §10).
#pragma once

#include <spdlog/spdlog.h>

#define SIP_LOG_IMPL(level, event, fmtstr, ...) \
  SPDLOG_LOGGER_CALL(spdlog::default_logger_raw(), level, "event=" event " " fmtstr, ##__VA_ARGS__)
#define SIP_LOG_DEBUG(event, fmtstr, ...) \
  SIP_LOG_IMPL(spdlog::level::debug, event, fmtstr, ##__VA_ARGS__)
#define SIP_LOG_INFO(event, fmtstr, ...) \
  SIP_LOG_IMPL(spdlog::level::info, event, fmtstr, ##__VA_ARGS__)
#define SIP_LOG_WARN(event, fmtstr, ...) \
  SIP_LOG_IMPL(spdlog::level::warn, event, fmtstr, ##__VA_ARGS__)
