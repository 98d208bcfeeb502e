import Logging

/// Passes every event on to the handler it wraps except Hummingbird's own "Server started and
/// listening on …" line: `buildApplication` logs one `listening` line of its own, with the
/// scheme and the bound port as a number, and a server announces itself once.
struct ServerAnnouncementFilter: LogHandler {
    var wrapped: any LogHandler

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        // The file (`#fileID`, "Module/File.swift") is compared before the message is rendered,
        // so the request lines pay one prefix check.
        if event.level == .info, event.file.hasPrefix("HummingbirdCore/"),
           event.message.description.hasPrefix("Server started and listening") {
            return
        }
        wrapped.log(event: event)
    }
}
