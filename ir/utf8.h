// UTF-8 checks for the names a graph holds: protobuf's string fields must
// be UTF-8, and a name that is not would be saved as a file no reader takes.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

// Well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points
// past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` fit for an error message: bytes that are not printable ASCII appear
// as \xNN, so a damaged name cannot garble the terminal.
std::string escaped(std::string_view s);

} // namespace kiln
