// The one way catalog code includes SOCI. Debian's SOCI 4.0.3 is built with Boost support and
// its soci-config.h says so, which makes <soci/soci.h> include Boost.Fusion headers; callvault
// does not use SOCI's Boost conversions (they are header-only templates, not part of the
// library's ABI), so they are switched off here and Boost is not a build dependency.
//
// Called by: catalog/ sources and tests. Thread-safety: n/a (includes only).
#pragma once

#include <soci/soci-config.h>
#undef SOCI_HAVE_BOOST
#undef SOCI_HAVE_BOOST_DATE_TIME

#include <soci/soci.h>
