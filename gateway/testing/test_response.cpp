#include "gateway/testing/test_response.hpp"

#include <boost/json/parse.hpp>

namespace csgi::testing {

boost::json::value TestResponse::json() const { return boost::json::parse(body); }

}  // namespace csgi::testing
