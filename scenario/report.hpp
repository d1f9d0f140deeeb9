// The scenario's result for people and programs: text with a timeline table
// per view, the same as JSON, and a self-contained HTML page with an SVG
// timeline per view (one lane per call, a bar from sent to answered coloured
// by outcome, the time the /api/ view ran drawn inside it).
#pragma once

#include <iosfwd>

#include <boost/json/value.hpp>

#include "scenario/scenario.hpp"

namespace csgi::scenario {

void write_text(std::ostream& out, const Report& report);
boost::json::value to_json(const Report& report);
void write_html(std::ostream& out, const Report& report);

}  // namespace csgi::scenario
