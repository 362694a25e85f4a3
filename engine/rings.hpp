// The ring types that join the stages, with their capacities in one place.
#pragma once

#include "engine/messages.hpp"
#include "engine/spsc_ring.hpp"

namespace qt {

using QuoteRing = SpscRing<Quote, 4096>;                // feed → engine, feed → paper venue
using CommandRing = SpscRing<ClientCommand, 4096>;      // one per client-side producer → engine
using OrderUpdateRing = SpscRing<OrderUpdate, 4096>;    // engine → one client-side consumer
using VenueRequestRing = SpscRing<VenueRequest, 4096>;  // engine → venue
using VenueEventRing = SpscRing<VenueEvent, 4096>;      // venue → engine

}  // namespace qt
