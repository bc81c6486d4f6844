package com.example.greetings;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
public class GreetingController {

    private final AtomicLong counter = new AtomicLong();
    private final Map<String, Long> seen = new ConcurrentHashMap<>();

    @GetMapping("/greeting")
    public Map<String, Object> greeting(@RequestParam(defaultValue = "world") String name) {
        long id = counter.incrementAndGet();
        seen.merge(name, 1L, Long::sum);
        return Map.of("id", id, "content", "Hello, " + name + "!");
    }

    @GetMapping("/greeting/{name}/count")
    public ResponseEntity<Map<String, Object>> count(@PathVariable String name) {
        Long times = seen.get(name);
        if (times == null) {
            return ResponseEntity.notFound().build();
        }
        return ResponseEntity.ok(Map.of("name", name, "count", times));
    }
}
