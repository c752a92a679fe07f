package dev.basalt.image.registry;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** An SSL context that trusts the JDK's CAs plus the certificates of a PEM file. */
final class TrustedCertificates {
    private TrustedCertificates() {
    }

    static SSLContext sslContext(Path pem) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            Path cacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
            if (Files.isReadable(cacerts)) {
                try (InputStream in = Files.newInputStream(cacerts)) {
                    store.load(in, null);
                }
            } else {
                store.load(null, null);
            }
            Collection<? extends Certificate> certs;
            try (InputStream in = Files.newInputStream(pem)) {
                certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (certs.isEmpty()) {
                throw new BasaltException.InvalidArgument("no certificate in " + pem);
            }
            int i = 0;
            for (Certificate c : certs) {
                store.setCertificateEntry("basalt-extra-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new BasaltException.InvalidArgument("cannot use the CA certificates in " + pem + ": " + e.getMessage(), e);
        }
    }
}
