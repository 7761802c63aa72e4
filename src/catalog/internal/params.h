// Bound parameters for SQL built at run time (list filters, multi-row statements): each Add()
// stores the value where it stays put and returns its placeholder (":p0", ":p1", …), and
// Prepare() binds them all (SOCI binds by reference, so the values must outlive execution —
// they live here) and prepares the statement.
//
// Binding by name lets a placeholder appear anywhere, even twice, but SQLite looks every name
// up with a linear scan, both when it parses the statement and when SOCI binds it: O(n²) per
// statement, seconds for the tens of thousands of parameters of a multi-row INSERT. Those
// statements use ByPosition(): anonymous `?` on SQLite (SOCI hands the SQL to SQLite as is),
// `:pN` on PostgreSQL (SOCI rewrites them to $N in order), bound in the order of the Add()
// calls — so every placeholder must appear exactly once, in that order. Build tuples with
// Tuple({…}) (a braced list is evaluated in order), never `p.Add(a) + ", " + p.Add(b)` (the
// operands of + are not sequenced).
//
// Called by: SqlCatalog. Thread-safety: none (one per statement, one thread).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "catalog/internal/dialect.h"
#include "catalog/internal/soci.h"

namespace callvault::catalog::internal {

class Params {
 public:
  Params() = default;  // by name
  static Params ByPosition(const Dialect& dialect) {
    Params p;
    p.by_position_ = true;
    p.anonymous_ = dialect.backend == Backend::kSqlite;
    return p;
  }

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
    for (size_t i = 0; i < binders_.size(); ++i) {
      // SOCI binds a use element with an empty name by position.
      binders_[i](st, by_position_ ? std::string() : "p" + std::to_string(i));
    }
    st.alloc();
    st.prepare(sql, soci::details::st_one_time_query);  // PostgreSQL: one round trip
    st.define_and_bind();
  }

 private:
  using Binder = std::function<void(soci::statement&, const std::string&)>;
  std::string Bind(Binder binder) {
    binders_.push_back(std::move(binder));
    return anonymous_ ? "?" : ":p" + std::to_string(binders_.size() - 1);
  }

  bool by_position_ = false;
  bool anonymous_ = false;

  std::deque<std::string> strings_;
  std::deque<long long> ints_;
  std::deque<soci::indicator> indicators_;
  std::vector<Binder> binders_;
};

// "(a, b, c)": a VALUES tuple of placeholders, in the order given.
inline std::string Tuple(std::initializer_list<std::string> placeholders) {
  std::string t = "(";
  for (const std::string& p : placeholders) {
    if (t.size() > 1) t += ", ";
    t += p;
  }
  return t + ")";
}

}  // namespace callvault::catalog::internal
