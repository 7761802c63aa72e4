// SqlCatalog: tenants and cluster-wide settings (catalog.h §tenants and settings), and the
// appliers of peers' tenant and setting changes (docs/formats/catalog-schema.md §change_log).
#include <string>
#include <vector>

#include "catalog/internal/change_body.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

// Tenant and setting names: 1–128 bytes without control characters.
Status CheckName(std::string_view what, const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return InvalidArgumentError(std::string(what) + ": a name is 1-128 bytes");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(std::string(what) + ": a name has no control characters");
    }
  }
  return Status::Ok();
}

void WriteTenant(soci::session& sql, const Tenant& t) {
  const long long created = t.created_ms;
  const int disabled = t.disabled ? 1 : 0;
  sql << "INSERT INTO tenants (name, display_name, created_ms, disabled) VALUES (:n, :d, :c, :x) "
         "ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, "
         "created_ms = excluded.created_ms, disabled = excluded.disabled",
      soci::use(t.name), soci::use(t.display_name), soci::use(created), soci::use(disabled);
}

bool DeleteTenantRow(soci::session& sql, const std::string& name) {
  soci::statement st = (sql.prepare << "DELETE FROM tenants WHERE name = :n", soci::use(name));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

void WriteSetting(soci::session& sql, const std::string& name, const std::string& value) {
  sql << "INSERT INTO settings (name, value) VALUES (:n, :v) "
         "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      soci::use(name), soci::use(value);
}

}  // namespace

Status SqlCatalog::UpsertTenant(const Tenant& tenant) {
  CV_RETURN_IF_ERROR(CheckName("tenant", tenant.name));
  Tenant row = tenant;
  if (row.created_ms == 0) row.created_ms = NowMs();
  return Replicated("upsert tenant", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    WriteTenant(sql, row);
    changes_->Record(sql, kEntityTenant, row.name, kOpUpsert, TenantBody(row));
    return Status::Ok();
  });
}

Status SqlCatalog::DeleteTenant(const std::string& name) {
  return Replicated("delete tenant", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    if (!DeleteTenantRow(sql, name)) return NotFoundError("tenants: no tenant \"" + name + "\"");
    changes_->Record(sql, kEntityTenant, name, kOpDelete, DeleteBody());
    return Status::Ok();
  });
}

Result<std::vector<Tenant>> SqlCatalog::ListTenants() {
  std::vector<Tenant> out;
  CV_RETURN_IF_ERROR(pool_->Run("list tenants", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    out.clear();
    Tenant t;
    long long created = 0;
    int disabled = 0;
    soci::statement st =
        (sql.prepare << "SELECT name, display_name, created_ms, disabled FROM tenants "
                        "ORDER BY name",
         soci::into(t.name), soci::into(t.display_name), soci::into(created), soci::into(disabled));
    if (st.execute(true)) {
      do {
        t.created_ms = created;
        t.disabled = disabled != 0;
        out.push_back(t);
      } while (st.fetch());
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::string> SqlCatalog::GetSetting(const std::string& name) {
  std::optional<std::string> value;
  CV_RETURN_IF_ERROR(pool_->Run("get setting", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    std::string v;
    soci::indicator ind = soci::i_null;
    sql << "SELECT value FROM settings WHERE name = :n", soci::use(name), soci::into(v, ind);
    value = ind == soci::i_ok ? std::optional<std::string>(v) : std::nullopt;
    return Status::Ok();
  }));
  if (!value) return NotFoundError("settings: \"" + name + "\" is not set");
  return *value;
}

Status SqlCatalog::PutSetting(const std::string& name, const std::string& value) {
  CV_RETURN_IF_ERROR(CheckName("setting", name));
  return Replicated("put setting", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    WriteSetting(sql, name, value);
    changes_->Record(sql, kEntitySetting, name, kOpUpsert, SettingBody(name, value));
    return Status::Ok();
  });
}

Status ApplyTenantChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  if (c.op == kOpDelete) {
    DeleteTenantRow(sql, c.key);
    return Status::Ok();
  }
  CV_ASSIGN_OR_RETURN(Tenant t, ReadTenantBody(body));
  if (t.name != c.key) {
    return InvalidArgumentError("tenant " + c.key + ": the body names \"" + t.name + "\"");
  }
  CV_RETURN_IF_ERROR(CheckName("tenant", t.name));
  WriteTenant(sql, t);
  return Status::Ok();
}

Status ApplySettingChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  CV_RETURN_IF_ERROR(CheckName("setting", c.key));
  CV_ASSIGN_OR_RETURN(std::string value, ReadSettingValue(body));
  WriteSetting(sql, c.key, value);
  return Status::Ok();
}

}  // namespace callvault::catalog::internal
