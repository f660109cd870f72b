/** The GraphQL schema. Sizes are Float: byte counts pass 2^31, and GraphQL's Int is 32-bit. */
export const typeDefs = /* GraphQL */ `
  "Any JSON value: event data and metadata, a transfer's source."
  scalar JSON

  type Query {
    "Newest first, keyset-paged like GET /api/transfers."
    transfers(first: Int = 20, after: String, status: String): TransferPage!
    transfer(id: ID!): Transfer
    nodes: [Node!]!
    node(id: ID!): Node
    fleet: FleetTotals!
  }

  type Mutation {
    "POST /api/torrent/create. Idempotent by requestId (default: the X-Request-ID header)."
    createTransfer(input: CreateTransferInput!, requestId: String): CommandResult!
    startTransfer(id: ID!, requestId: String): CommandResult!
    pauseTransfer(id: ID!, requestId: String): CommandResult!
    resumeTransfer(id: ID!, requestId: String): CommandResult!
    cancelTransfer(id: ID!, reason: String, requestId: String): CommandResult!
  }

  type Subscription {
    "Pushed after each projection commit that touched the transfer."
    transferProgress(id: ID!): TransferProgress!
    "Pushed after each projection commit that moved the fleet's transfers or nodes."
    fleetActivity: FleetActivity!
  }

  type TransferPage { items: [Transfer!]!, nextCursor: String }

  type Transfer {
    id: ID!
    name: String
    status: String!
    source: JSON!
    totalBytes: Float
    pieceLength: Int
    pieceCount: Int
    progress: Float!
    nodes: NodeCounts!
    bytes: TransferBytes!
    "Bytes the nodes did not read from the origin: from peers plus already in a CAS."
    bytesSavedAtOrigin: Float!
    failureReason: String
    requestId: String!
    createdBy: String!
    createdAt: String!
    updatedAt: String!
    jobs: [Job!]!
    "Per node: one character per chunk, - missing, o origin, p peer, c CAS."
    chunks(nodeId: ID): [ChunkMap!]!
    "The audit view: the transfer's and its jobs' events in log order (the last ones when limited)."
    events(last: Int): [Event!]!
  }

  type NodeCounts { total: Int!, completed: Int!, failed: Int! }
  type TransferBytes { verified: Float!, origin: Float!, peer: Float!, cas: Float! }
  type SourceBytes { origin: Float!, peer: Float!, cas: Float! }

  type Job {
    nodeId: ID!
    state: String!
    role: String!
    workerId: String
    fencingToken: Float!
    chunksVerified: Int!
    progress: Float!
    "Bytes per second over the last 10 seconds (chunks verified × piece length)."
    throughput: Float!
    bytes: SourceBytes!
    failureReason: String
    assignedAt: String!
    updatedAt: String!
    completedAt: String
  }

  type ChunkMap { nodeId: ID!, map: String!, verified: Int!, bySource: ChunkCounts! }
  type ChunkCounts { origin: Int!, peer: Int!, cas: Int! }

  type Event {
    globalPosition: Float!
    streamId: String!
    streamRevision: Int!
    eventId: ID!
    type: String!
    schemaVersion: Int!
    data: JSON!
    metadata: JSON!
    recordedAt: String!
  }

  type Label { key: String!, value: String! }

  type Node {
    id: ID!
    labels: [Label!]!
    casVolume: String!
    capacityBytes: Float!
    registeredAt: String!
    "The last heartbeat this api replica received, while younger than its TTL."
    heartbeat: Heartbeat
    "Jobs in transfers that have not ended."
    jobs: [NodeJob!]!
  }

  type Heartbeat { workerId: String!, activeJobs: Int!, casBytes: Float, receivedAt: String! }
  type NodeJob { transferId: ID!, transferStatus: String!, state: String!, role: String!, progress: Float!, fencingToken: Float! }

  type FleetTotals {
    transfers: Int!
    transfersByStatus: [StatusCount!]!
    nodes: Int!
    activeJobs: Int!
    bytes: TransferBytes!
    "Bytes from peers plus bytes already in a CAS: what the origin did not serve."
    bytesSavedAtOrigin: Float!
  }
  type StatusCount { status: String!, count: Int! }

  type CommandResult { id: ID!, status: String!, requestId: String!, "true when the request id was seen before: nothing was appended" replayed: Boolean! }

  input CreateTransferInput {
    magnetURI: String
    source: SourceInput
    name: String
    autoStart: Boolean
    targets: TargetsInput
    destination: String
    seedNode: String
  }
  input SourceInput { url: String! }
  "kind: all | nodes (with nodeIds) | selector (with labels)."
  input TargetsInput { kind: String!, nodeIds: [String!], labels: [LabelInput!] }
  input LabelInput { key: String!, value: String! }

  type TransferProgress {
    transferId: ID!
    "The projection whose commit caused this push, and the log position it reached."
    projection: String!
    position: Float!
    eventTypes: [String!]!
    "Chunks verified in this commit (on the chunks projection's pushes)."
    chunks: [ChunkBatch!]!
    committedAt: String!
    "The transfer as the read model holds it now."
    transfer: Transfer
  }
  type ChunkBatch { nodeId: ID!, source: String!, chunkIndexes: [Int!]!, bytes: Float! }

  type FleetActivity {
    projection: String!
    position: Float!
    transferIds: [ID!]!
    nodeIds: [ID!]!
    eventTypes: [String!]!
    committedAt: String!
    fleet: FleetTotals!
  }
`;
