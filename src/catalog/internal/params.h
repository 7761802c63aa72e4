// Bound parameters for SQL built at run time (list filters, multi-row statements): each Add()
// stores the value where it stays put and returns its placeholder (":p0", ":p1", …), and
// Prepare() binds them all (SOCI binds by reference, so the values must outlive execution —
// they live here) and prepares the statement.
//
// Called by: SqlCatalog. Thread-safety: none (one per statement, one thread).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/internal/soci.h"

namespace callvault::catalog::internal {

class Params {
 public:
  std::string Add(std::string value) {
    strings_.push_back(std::move(value));
    return Bind([&v = strings_.back()](soci::statement& st, const std::string& name) {
      st.exchange(soci::use(v, name));
    });
  }
  std::string Add(int64_t value) {
    ints_.push_back(value);
    return Bind([&v = ints_.back()](soci::statement& st, const std::string& name) {
      st.exchange(soci::use(v, name));
    });
  }
  // NULL when `value` is empty.
  std::string Add(std::optional<int64_t> value) {
    ints_.push_back(value.value_or(0));
    indicators_.push_back(value ? soci::i_ok : soci::i_null);
    return Bind([&v = ints_.back(), &ind = indicators_.back()](soci::statement& st,
                                                               const std::string& name) {
      st.exchange(soci::use(v, ind, name));
    });
  }
  // NULL when `null` is true.
  std::string AddText(std::string value, bool null) {
    strings_.push_back(std::move(value));
    indicators_.push_back(null ? soci::i_null : soci::i_ok);
    return Bind([&v = strings_.back(), &ind = indicators_.back()](soci::statement& st,
                                                                  const std::string& name) {
      st.exchange(soci::use(v, ind, name));
    });
  }

  // Binds every parameter to `st` (intos may be exchanged before or after) and prepares `sql`.
  void Prepare(soci::statement& st, const std::string& sql) {
    for (size_t i = 0; i < binders_.size(); ++i) binders_[i](st, "p" + std::to_string(i));
    st.alloc();
    st.prepare(sql, soci::details::st_one_time_query);  // PostgreSQL: one round trip
    st.define_and_bind();
  }

 private:
  using Binder = std::function<void(soci::statement&, const std::string&)>;
  std::string Bind(Binder binder) {
    binders_.push_back(std::move(binder));
    return ":p" + std::to_string(binders_.size() - 1);
  }

  std::deque<std::string> strings_;
  std::deque<long long> ints_;
  std::deque<soci::indicator> indicators_;
  std::vector<Binder> binders_;
};

}  // namespace callvault::catalog::internal
