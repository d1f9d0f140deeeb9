// The plugin's entry point: `csgi serve libhello.so` calls hello::make_app.
#include <csgi/apps/plugin.hpp>

#include "app.hpp"

CSGI_PLUGIN(hello::make_app)
