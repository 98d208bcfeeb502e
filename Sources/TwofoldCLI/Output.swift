import Foundation
import TwofoldCore

/// Human output as aligned tables, machine output as one line of JSON in the API's shape.
enum Output {
    /// Prints rows under a header, each column as wide as its widest cell, or `empty` ("no
    /// users") alone when there are no rows, rather than a bare header.
    /// - Parameter empty: What to print when there are no rows; `nil` prints the header alone.
    static func table(_ header: [String], _ rows: [[String]], empty: String? = nil) {
        if rows.isEmpty, let empty {
            print(empty)
            return
        }
        var table = Table(header: header)
        table.fit(rows)
        table.printHeader()
        for row in rows { table.printRow(row) }
    }

    /// Prints `value` as one line of JSON, as the API writes it (``TwofoldJSON``): compact,
    /// sorted keys, times in RFC 3339 with milliseconds.
    static func json(_ value: some Encodable) throws {
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// `value` as one line of JSON ending in a newline, for standard output or a file.
    static func jsonLine(_ value: some Encodable) throws -> Data {
        try encoder.encode(value) + Data("\n".utf8)
    }

    /// ``TwofoldJSON``'s configuration. The CLI's own reports (`factors reset`, `keys rotate`, …)
    /// name their fields after Swift properties, which this writes in snake_case; the shared
    /// types' keys are snake_case already and stay as they are, and a dictionary's keys (an
    /// audit event's details) are never converted.
    private static let encoder: JSONEncoder = {
        let encoder = TwofoldJSON.makeEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// `text` with control and format characters written as `\u{…}` escapes, so that text from
    /// the database or an argument cannot move the cursor or rewrite the terminal.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Timestamp.text(date)
    }

    /// A count and its noun, as English reads it: "1 event", "2 events", "0 events".
    /// - Parameter plural: The plural when it is not `singular` + "s".
    static func count(_ count: Int, _ singular: String, plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }

    /// Column widths for a table, kept from one row to the next so that rows printed as they
    /// arrive (`audit tail --follow`) stay aligned under the header.
    struct Table {
        let header: [String]
        private(set) var widths: [Int]

        /// - Parameter minimumWidths: Widths to reserve for rows still to come, by column.
        init(header: [String], minimumWidths: [Int] = []) {
            self.header = header
            widths = header.enumerated().map { index, title in
                max(title.count, index < minimumWidths.count ? minimumWidths[index] : 0)
            }
        }

        /// Widens the columns to fit `rows`.
        mutating func fit(_ rows: [[String]]) {
            for row in rows {
                for (index, cell) in row.enumerated() where index < widths.count {
                    widths[index] = max(widths[index], cell.count)
                }
            }
        }

        /// The cells padded to their columns, two spaces apart; the last cell is not padded, and
        /// no cell is ever cut.
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                guard index < cells.count - 1, index < widths.count else { return cell }
                return cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
            }.joined(separator: "  ")
        }

        func printHeader() {
            print(line(header))
        }

        /// Prints `row` in the current columns. A cell wider than its column widens it for the
        /// rows after (this one cannot be aligned with the rows above).
        mutating func printRow(_ row: [String]) {
            print(line(row))
            fit([row])
        }
    }
}
