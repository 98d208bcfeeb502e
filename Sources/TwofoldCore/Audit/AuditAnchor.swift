import Foundation

/// The shard heads one `audit verify` read, kept outside the database, so that the next
/// verification can tell that the database was rolled back past them.
///
/// Why: every head carries a tag under the audit key, so nobody without the key can forge one;
/// but a genuine older head (from a backup, the WAL, dead tuples) still has a valid tag, and
/// putting it back with the events it covers hides everything after it. Nothing inside the
/// database can tell a complete older copy from the present. A record kept elsewhere can: each
/// shard must still reach the sequence the anchor saw, with the same event there.
///
/// The anchor is tagged with the audit key, so an edited anchor, or another deployment's, is
/// refused rather than trusted. Deleting the file is not detected: the next verification says
/// that it starts without one.
public struct AuditAnchor: Sendable, Equatable {
    /// Where one shard stood: its last event's sequence and MAC (sequence 0: no events yet).
    public struct Mark: Sendable, Equatable {
        public var shard: Int
        public var sequence: Int64
        public var mac: [UInt8]
    }

    /// When the verification that read these heads ran.
    public var verifiedAt: Date
    /// One mark per shard that had a head, by shard number.
    public var marks: [Mark]
    var tag: [UInt8]

    static let format = "twofold-audit-anchor-1"

    /// The anchor's JSON text (one line, with its tag).
    public func text() -> String {
        let shards = marks.map { #"{"shard":\#($0.shard),"sequence":\#($0.sequence),"mac":"\#(Hex.encode($0.mac))"}"# }
        return #"{"format":"\#(Self.format)","verified_at":"\#(Timestamp.text(verifiedAt))","verified_at_ms":\#(Self.milliseconds(verifiedAt)),"#
            + #""shards":[\#(shards.joined(separator: ","))],"tag":"\#(Hex.encode(tag))"}"# + "\n"
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}

extension AuditChain {
    /// An anchor of `heads`, tagged with the audit key.
    public func anchor(_ heads: [AuditShardHead], verifiedAt: Date) -> AuditAnchor {
        let milliseconds = AuditAnchor.milliseconds(verifiedAt)
        let marks = heads.sorted { $0.shard < $1.shard }.map { AuditAnchor.Mark(shard: $0.shard, sequence: $0.headSequence, mac: $0.headMAC) }
        var anchor = AuditAnchor(verifiedAt: Date(timeIntervalSince1970: Double(milliseconds) / 1000), marks: marks, tag: [])
        anchor.tag = anchorTag(anchor)
        return anchor
    }

    /// Reads an anchor this deployment wrote.
    /// - Throws: `invalid_request` for text that is not an anchor; `audit_tampered` when its tag
    ///   does not hold (edited, or written under another audit key).
    public func anchor(parsing data: Data) throws(TwofoldError) -> AuditAnchor {
        func malformed(_ why: String) -> TwofoldError {
            TwofoldError(.invalidRequest, "the audit anchor is not one Twofold wrote: \(why)")
        }
        guard data.count <= 64 * 1024, let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw malformed("it is not a JSON object")
        }
        guard object["format"] as? String == AuditAnchor.format else { throw malformed("its format is not \(AuditAnchor.format)") }
        guard let milliseconds = (object["verified_at_ms"] as? NSNumber)?.int64Value,
              let shards = object["shards"] as? [[String: Any]], shards.count <= AuditChain.shardCount,
              let tagText = object["tag"] as? String, let tag = Hex.decode(tagText), tag.count == 32
        else { throw malformed("verified_at_ms, shards or tag is missing or malformed") }
        var marks: [AuditAnchor.Mark] = []
        for shard in shards {
            guard let number = (shard["shard"] as? NSNumber)?.intValue, (0..<AuditChain.shardCount).contains(number),
                  let sequence = (shard["sequence"] as? NSNumber)?.int64Value, sequence >= 0,
                  let macText = shard["mac"] as? String, let mac = Hex.decode(macText), mac.count == 32,
                  marks.last.map({ $0.shard < number }) ?? true
            else { throw malformed("a shard's entry is malformed or out of order") }
            marks.append(AuditAnchor.Mark(shard: number, sequence: sequence, mac: mac))
        }
        let anchor = AuditAnchor(verifiedAt: Date(timeIntervalSince1970: Double(milliseconds) / 1000), marks: marks, tag: tag)
        guard anchorTag(anchor) == tag else {
            throw TwofoldError(.auditTampered, "the audit anchor was edited, or written by another deployment (its tag does not hold under this audit key)")
        }
        return anchor
    }

    func anchorTag(_ anchor: AuditAnchor) -> [UInt8] {
        var parts = ["anchor", String(AuditAnchor.milliseconds(anchor.verifiedAt))]
        for mark in anchor.marks {
            parts += [String(mark.shard), String(mark.sequence), Hex.encode(mark.mac)]
        }
        return mac(parts)
    }
}
