//! A minimal SMTP client (RFC 5321) for the state's mail relay: EHLO, MAIL FROM, RCPT TO,
//! DATA, QUIT. No TLS and no authentication: it is meant for a relay on the same host or
//! network, which then handles onward delivery (the usual set-up for servers that send mail).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::{DeliveryError, Message};

const TIMEOUT: Duration = Duration::from_secs(30);

fn valid_address(address: &str) -> bool {
    address.contains('@') && !address.contains(['\r', '\n', '<', '>', ' '])
}

/// Sends one plain-text message through the relay.
pub fn send(host: &str, port: u16, from: &str, message: &Message<'_>) -> Result<(), DeliveryError> {
    if !valid_address(from) || !valid_address(message.to) {
        return Err(DeliveryError::InvalidAddress);
    }
    let stream = TcpStream::connect((host, port))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    expect(&mut reader, "connect", 220)?;
    command(&mut writer, &mut reader, "EHLO", "EHLO izreg\r\n", 250)?;
    command(&mut writer, &mut reader, "MAIL FROM", &format!("MAIL FROM:<{from}>\r\n"), 250)?;
    command(&mut writer, &mut reader, "RCPT TO", &format!("RCPT TO:<{}>\r\n", message.to), 250)?;
    command(&mut writer, &mut reader, "DATA", "DATA\r\n", 354)?;
    let subject: String = message.subject.chars().filter(|c| !c.is_control()).collect();
    let mut data = format!(
        "From: <{from}>\r\nTo: <{}>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
        message.to
    );
    for line in message.body.lines() {
        // Dot-stuffing: a line starting with '.' gets another, so it cannot end the message.
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
        data.push_str("\r\n");
    }
    data.push_str(".\r\n");
    command(&mut writer, &mut reader, "message", &data, 250)?;
    // The message is accepted; a failing QUIT does not undo that.
    let _ = writer.write_all(b"QUIT\r\n");
    Ok(())
}

fn command(
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    name: &'static str,
    text: &str,
    expected: u16,
) -> Result<(), DeliveryError> {
    writer.write_all(text.as_bytes())?;
    writer.flush()?;
    expect(reader, name, expected)
}

/// Reads a (possibly multi-line) reply and checks its code.
fn expect(reader: &mut BufReader<TcpStream>, name: &'static str, expected: u16) -> Result<(), DeliveryError> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(DeliveryError::Refused { command: name, reply: "connection closed".to_owned() });
        }
        // "250-..." continues, "250 ..." is the last line.
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
    if code == Some(expected) {
        Ok(())
    } else {
        Err(DeliveryError::Refused { command: name, reply: line.trim_end().chars().take(200).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A fake relay that accepts one message and returns the transcript it received.
    fn fake_relay() -> (u16, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let mut transcript = String::new();
            writer.write_all(b"220 relay ready\r\n").unwrap();
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                transcript.push_str(&line);
                if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        writer.write_all(b"250 queued\r\n").unwrap();
                    }
                    continue;
                }
                match line.get(..4).unwrap_or_default() {
                    "EHLO" => writer.write_all(b"250-relay\r\n250 8BITMIME\r\n").unwrap(),
                    "DATA" => {
                        in_data = true;
                        writer.write_all(b"354 go ahead\r\n").unwrap();
                    }
                    "QUIT" => {
                        writer.write_all(b"221 bye\r\n").unwrap();
                        break;
                    }
                    _ => writer.write_all(b"250 ok\r\n").unwrap(),
                }
            }
            transcript
        });
        (port, handle)
    }

    #[test]
    fn sends_through_a_relay_with_dot_stuffing() {
        let (port, relay) = fake_relay();
        let message =
            Message { to: "rep@clinic.example", subject: "Agreement expires", body: "Hello\n.hidden line\nBye" };
        send("127.0.0.1", port, "registry@state.example", &message).unwrap();
        let transcript = relay.join().unwrap();
        assert!(transcript.contains("MAIL FROM:<registry@state.example>"));
        assert!(transcript.contains("RCPT TO:<rep@clinic.example>"));
        assert!(transcript.contains("Subject: Agreement expires"));
        assert!(transcript.contains("\r\n..hidden line\r\n"));
    }

    #[test]
    fn refuses_addresses_that_could_inject_commands() {
        let message = Message { to: "a@b.example>\r\nRCPT TO:<x@y.example", subject: "s", body: "b" };
        assert!(matches!(send("127.0.0.1", 1, "r@s.example", &message), Err(DeliveryError::InvalidAddress)));
    }
}
