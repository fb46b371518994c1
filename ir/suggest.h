// Errors for unknown names that list the valid ones and suggest the closest:
// "no fetch named 'prediction'; did you mean 'predicted'? outputs: loss,
// accuracy, predicted". One helper for node names, feeds, fetches and CLI
// commands alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// Edit distance in bytes: insertions, deletions, substitutions and swaps of
// two neighbours ("rnu" is one edit from "run"), each counting one.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `name`, if it is near enough to be a plausible
// typo (at most a third of the name's length changed, at least one edit, never
// every byte);
// ties go to the earlier candidate.
std::optional<std::string> closest_name(std::string_view name,
                                        const std::vector<std::string> &candidates);

// "; did you mean 'X'?" for the closest candidate, or "" when none is close.
std::string did_you_mean(std::string_view name, const std::vector<std::string> &candidates);

// "no KIND named 'NAME'; did you mean 'X'? LIST_TITLE: a, b, c", the
// suggestion the closest of `candidates`, the list `listed` (cut after 20
// names: "... (N more)"); without a suggestion "no KIND named 'NAME';
// LIST_TITLE: a, b, c"; without a list, the message ends after the name or
// the suggestion.
std::string unknown_name(std::string_view kind, std::string_view name,
                         const std::vector<std::string> &candidates, std::string_view list_title,
                         const std::vector<std::string> &listed);

} // namespace kiln
