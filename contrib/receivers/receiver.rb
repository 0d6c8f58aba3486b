#!/usr/bin/env ruby
# posthook webhook receiver: verify the signature through the JWKS, dedupe
# on uuid, answer 200 at once.
#
#     ruby receiver.rb JWKS_URL_OR_FILE PORT [HEADER_PREFIX]
#
# Standard library only (openssl, socket, json, net/http).  HEADER_PREFIX is
# signature_header_prefix of posthook.conf (default X-Posthook).
require 'base64'
require 'json'
require 'net/http'
require 'openssl'
require 'socket'

JWKS_SOURCE = ARGV.fetch(0)
PORT = Integer(ARGV.fetch(1))
PREFIX = (ARGV[2] || 'X-Posthook').downcase
REFETCH_INTERVAL = 1.0 # at most one JWKS fetch a second
SEEN_MAX = 100_000     # uuids remembered for dedupe

$keys = {}
$last_fetch = -REFETCH_INTERVAL
$seen = {}
$lock = Mutex.new
$work = Queue.new

def rsa_key(jwk)
  n, e = %w[n e].map { |f| OpenSSL::BN.new(Base64.urlsafe_decode64(jwk.fetch(f)), 2) }
  seq = OpenSSL::ASN1::Sequence([OpenSSL::ASN1::Integer(n), OpenSSL::ASN1::Integer(e)])
  OpenSSL::PKey::RSA.new(seq.to_der)
end

def fetch_jwks
  $last_fetch = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  text = if JWKS_SOURCE =~ %r{\Ahttps?://}
           Net::HTTP.get(URI(JWKS_SOURCE))
         else
           File.read(JWKS_SOURCE)
         end
  keys = JSON.parse(text).fetch('keys').select { |k| k['kty'] == 'RSA' }
  $keys = keys.to_h { |k| [k['kid'], rsa_key(k)] }
end

# key_for - the cached key; an unknown kid fetches the JWKS again (rate-limited)
def key_for(kid)
  $lock.synchronize do
    now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    if !$keys.key?(kid) && now - $last_fetch >= REFETCH_INTERVAL
      begin
        fetch_jwks
      rescue StandardError => e
        puts "jwks fetch failed: #{e.message}"
      end
    end
    $keys[kid]
  end
end

def first_seen?(uuid)
  $lock.synchronize do
    return false if $seen.key?(uuid)
    $seen[uuid] = true
    $seen.shift if $seen.size > SEEN_MAX # a Hash keeps insertion order
    true
  end
end

def verify(headers, body)
  key = key_for(headers["#{PREFIX}-signature-kid"].to_s)
  sig = Base64.strict_decode64(headers["#{PREFIX}-signature"].to_s)
  key && key.verify('SHA256', sig, body) ? JSON.parse(body) : nil
rescue ArgumentError, JSON::ParserError, OpenSSL::PKey::PKeyError
  nil
end

def handle(client)
  return unless client.gets # request line
  headers = {}
  while (line = client.gets) && line != "\r\n"
    name, value = line.split(':', 2)
    headers[name.strip.downcase] = value.to_s.strip
  end
  body = client.read(Integer(headers.fetch('content-length', '0'))) || ''
  event = verify(headers, body)
  code, text = if event.nil? then [401, 'bad signature']
               elsif !first_seen?(event['uuid']) then [200, 'duplicate']
               else $work << event; [200, 'ok']
               end
  client.write("HTTP/1.1 #{code} #{code == 200 ? 'OK' : 'Unauthorized'}\r\n" \
               "Content-Type: text/plain\r\nContent-Length: #{text.size + 1}\r\n" \
               "Connection: close\r\n\r\n#{text}\n")
ensure
  client.close
end

$stdout.sync = true
Thread.new do
  loop do
    event = $work.pop # the application's real work goes here
    puts "event #{event['uuid']} #{event['event']}"
  end
end
server = TCPServer.new('127.0.0.1', PORT)
puts "listening on 127.0.0.1:#{PORT}"
loop { Thread.new(server.accept) { |c| handle(c) } }
