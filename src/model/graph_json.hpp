#pragma once
// A Graph's structure (nodes and conv geometry, no weights) as JSON text, for the "graph"
// metadata entry of a model file.
#include <string>

#include "quicksr/model.hpp"

namespace quicksr {

std::string graph_to_json(const Graph& graph);
// Parses the structure (unchecked: see check_graph); convs get their geometry and empty
// weight/bias, and `has_bias[i]` says whether conv i expects a bias tensor. Throws quicksr::Error
// "<file>: <problem>".
Graph graph_from_json(const std::string& text, const std::string& file,
                      std::vector<bool>& has_bias);

}  // namespace quicksr
